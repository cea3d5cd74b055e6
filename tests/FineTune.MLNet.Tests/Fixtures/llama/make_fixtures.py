"""Regenerates the decoder fixtures in this folder from the numpy reference (/work/shared/reference).

  /usr/bin/python3 make_fixtures.py /work/shared/reference

Models (hidden 32, 4 heads / 2 kv heads, head_dim 8, intermediate 64, vocab 128, 2 layers; weight std 0.1-0.15 so
attention is peaked and RoPE/masking errors show in the logits):
  llama/        untied, rope_theta 10000
  llama-tied/   tied, rope_theta 500000, rope_scaling llama3 (factor 8, low 1, high 4, original 256)
  qwen2/        tied, q/k/v biases
  llama-bf16/   BF16, sharded (+ index)
  lora/ lora-rslora/  PEFT adapters for llama/ (r 4, alpha 8, q_proj,v_proj)
  gen/          generation model (vocab 320, hidden 16, 1 layer, std 0.3) + byte-level BPE tokenizer
golden.json: float64 reference logits per case. The reference implements only default RoPE; for llama3
scaling this script swaps in rope_inv_freq computed as transformers' _compute_llama3_parameters (float32).
"""
import json, os, subprocess, sys
import numpy as np

REF = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, REF)
import reference as R  # noqa: E402
import safetensors as st  # noqa: E402

DEFAULT_INV_FREQ = R.rope_inv_freq

SMALL = ["--hidden", "32", "--heads", "4", "--kv-heads", "2", "--intermediate", "64", "--vocab", "128", "--max-pos", "512"]


def tiny(arch, name, *extra):
    subprocess.run([sys.executable, os.path.join(REF, "make_tiny.py"), arch, os.path.join(HERE, name), *extra], check=True)


def llama3_inv_freq(head_dim, theta, s):
    inv = DEFAULT_INV_FREQ(head_dim, theta, True).astype(np.float32)
    factor, low, high, old = (np.float32(s[k]) for k in ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"))
    low_wavelen, high_wavelen = old / low, old / high
    wavelen = np.float32(2 * np.pi) / inv
    inv_l = np.where(wavelen > low_wavelen, inv / factor, inv).astype(np.float32)
    smooth = ((old / wavelen - low) / (high - low)).astype(np.float32)
    smoothed = ((1 - smooth) * inv_l / factor + smooth * inv_l).astype(np.float32)
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return np.where(medium, smoothed, inv_l).astype(np.float32)


def load(name, adapter=None):
    d = os.path.join(HERE, name)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    scaling = cfg.get("rope_scaling")
    orig = R.rope_inv_freq
    if scaling:
        cfg2 = dict(cfg, rope_scaling=None)
        R.rope_inv_freq = lambda hd, th, fp32=True: llama3_inv_freq(hd, th, scaling)
    else:
        cfg2 = cfg
    for k, v in R._DEFAULTS[cfg["model_type"]].items():
        cfg2.setdefault(k, v)
    W = {k: v.astype(np.float64) for k, v in st.load_checkpoint(d).items()}
    if adapter:
        W = R.lora_merge(W, os.path.join(HERE, adapter))
    return cfg2, W, (lambda: setattr(R, "rope_inv_freq", orig))


def logits(name, seqs, adapter=None, pad=None):
    cfg, W, restore = load(name, adapter)
    try:
        if pad is None:
            return [R.causal_lm_logits(cfg, W, np.array([s]))[0] for s in seqs], None
        ids, mask = R.pad_batch(seqs, "left", 0)
        pos = R.position_ids_from_mask(mask)
        return R.causal_lm_logits(cfg, W, ids, mask, pos), (ids, mask)
    finally:
        restore()


def r(a):
    return np.round(np.asarray(a, dtype=np.float64), 9).tolist()


def main():
    tiny("llama", "llama", *SMALL, "--std", "0.1")
    tiny("llama", "llama-tied", *SMALL, "--tie", "--rope-theta", "500000", "--rms-eps", "1e-5", "--seed", "1", "--std", "0.15")
    cfgp = os.path.join(HERE, "llama-tied", "config.json")
    cfg = json.load(open(cfgp))
    cfg["rope_scaling"] = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                           "original_max_position_embeddings": 256, "rope_type": "llama3"}
    cfg["eos_token_id"] = [2, 3]
    json.dump(cfg, open(cfgp, "w"), indent=2, sort_keys=True)
    tiny("qwen2", "qwen2", *SMALL, "--tie", "--seed", "2", "--std", "0.1")
    tiny("llama", "llama-bf16", *SMALL, "--dtype", "BF16", "--shard-bytes", "12000", "--seed", "3", "--std", "0.1")
    subprocess.run([sys.executable, os.path.join(REF, "make_tiny.py"), "lora", os.path.join(HERE, "llama"), os.path.join(HERE, "lora"),
                    "--r", "4", "--alpha", "8", "--targets", "q_proj,v_proj"], check=True)
    subprocess.run([sys.executable, os.path.join(REF, "make_tiny.py"), "lora", os.path.join(HERE, "llama"), os.path.join(HERE, "lora-rslora"),
                    "--r", "4", "--alpha", "8", "--targets", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", "--rslora", "--seed", "5"], check=True)
    for a in ("lora", "lora-rslora"):  # no absolute paths of this machine in committed files
        p = os.path.join(HERE, a, "adapter_config.json")
        c = json.load(open(p)); c["base_model_name_or_path"] = "llama"; json.dump(c, open(p, "w"), indent=2, sort_keys=True)
    tiny("llama", "gen", "--hidden", "16", "--heads", "2", "--kv-heads", "1", "--intermediate", "32", "--vocab", "320",
         "--layers", "1", "--std", "0.3", "--seed", "7", "--max-pos", "512")
    subprocess.run([sys.executable, os.path.join(REF, "make_tokenizer.py"), os.path.join(HERE, "gen")], check=True)

    seqs = [[1, 5, 9, 17, 33, 65, 100], [1, 127, 3], [0, 64]]
    long_seq = [1] + [(7 * i + 3) % 128 for i in range(1, 40)]
    golden = {}
    for name in ("llama", "llama-tied", "qwen2", "llama-bf16"):
        golden[name] = {"ids": seqs, "logits": [r(x) for x in logits(name, seqs)[0]]}
    golden["llama-tied-long"] = {"ids": [long_seq], "logits": [r(x) for x in logits("llama-tied", [long_seq])[0]]}
    for name in ("llama", "qwen2"):
        batch, (ids, mask) = logits(name, seqs, pad="left")
        golden[name + "-leftpad"] = {"ids": ids.tolist(), "mask": mask.tolist(), "logits": r(batch)}
    for a in ("lora", "lora-rslora"):
        golden["llama+" + a] = {"ids": seqs[:2], "logits": [r(x) for x in logits("llama", seqs[:2], adapter=a)[0]]}
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))


main()
