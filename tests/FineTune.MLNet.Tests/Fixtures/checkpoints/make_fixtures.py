"""Regenerates the checkpoint fixtures with the independent numpy reference (/work/shared/reference).

Run from the repository root:
    /usr/bin/python3 tests/FineTune.MLNet.Tests/Fixtures/checkpoints/make_fixtures.py ../shared/reference

Writes, next to this script:
  * dtypes.safetensors + dtypes_expected.json: one small tensor per safetensors dtype, written by the
    reference writer, with the values it holds (BF16 as float values and raw bits).
  * tiny-llama-bf16-sharded/: make_tiny.py llama --dtype BF16 --shard-bytes 40000 (shards + index.json)
  * tiny-llama-bf16-sharded_expected.json and ../tiny-bert/model_expected.json: per tensor dtype, shape,
    float64 sum, sum of |x| and the first 4 values, all read back with the reference reader.
and ../tiny-bert/ (config.json, model.safetensors, reference_logits.json).
"""
import json
import os
import subprocess
import sys

import numpy as np

ref = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
sys.path.insert(0, ref)
import safetensors as st  # noqa: E402  (the reference module, not the pip package)

here = os.path.dirname(os.path.abspath(__file__))
bert_dir = os.path.join(os.path.dirname(here), "tiny-bert")
py = sys.executable


def run(*args):
    print("+", " ".join(args))
    return subprocess.run([py, *args], check=True, capture_output=True, text=True).stdout


def summary(tensors, dtypes):
    out = {}
    for k in sorted(tensors):
        a = np.asarray(tensors[k])
        flat = a.reshape(-1).astype(np.float64)
        out[k] = {"dtype": dtypes[k], "shape": list(a.shape), "sum": float(flat.sum()),
                  "abs_sum": float(np.abs(flat).sum()), "first": [float(v) for v in flat[:4]]}
    return out


def dtypes_of_folder(folder):
    names = [f for f in os.listdir(folder) if f.endswith(".safetensors")]
    d = {}
    for f in names:
        h, _, _ = st.read_header(os.path.join(folder, f))
        d.update({k: v["dtype"] for k, v in h.items()})
    return d


# 1. one tensor per dtype
rng = np.random.default_rng(1234)
f32 = rng.standard_normal((3, 5)).astype(np.float32)
tensors = {
    "f32": f32,
    "f64": rng.standard_normal((2, 3)),
    "f16": rng.standard_normal((4, 2)).astype(np.float16),
    "bf16": st.f32_to_bf16_bits(rng.standard_normal((2, 2, 3)).astype(np.float32)),
    "i64": np.array([[-(2 ** 40), -1, 0], [1, 7, 2 ** 62]], dtype=np.int64),
    "i32": np.array([-(2 ** 31), -5, 0, 9, 2 ** 31 - 1], dtype=np.int32),
    "i16": np.array([-32768, -2, 3, 32767], dtype=np.int16),
    "i8": np.array([[-128, -1], [0, 127]], dtype=np.int8),
    "u8": np.array([0, 1, 128, 255, 42], dtype=np.uint8),
    "bool": np.array([True, False, False, True]),
    "scalar_f32": np.array(3.5, dtype=np.float32),
    "empty_f32": np.zeros((0, 4), dtype=np.float32),
}
kinds = {"f32": "F32", "f64": "F64", "f16": "F16", "bf16": "BF16", "i64": "I64", "i32": "I32", "i16": "I16",
         "i8": "I8", "u8": "U8", "bool": "BOOL", "scalar_f32": "F32", "empty_f32": "F32"}
path = os.path.join(here, "dtypes.safetensors")
st.save_file(tensors, path, metadata={"format": "pt", "note": "fixture"}, dtype=kinds)
back, meta = st.load_file(path)  # BF16 comes back as float32 values
expected = {"metadata": meta, "tensors": {}}
for k in sorted(back):
    a = back[k]
    vals = a.reshape(-1).tolist()
    if a.dtype == np.bool_:
        vals = [bool(v) for v in vals]
    e = {"dtype": kinds[k], "shape": list(a.shape),
         "values": [str(v) if a.dtype == np.int64 else v for v in vals]}  # int64 as strings: exact in JSON
    if kinds[k] == "BF16":
        e["bits"] = [int(b) for b in tensors[k].reshape(-1)]
    expected["tensors"][k] = e
with open(os.path.join(here, "dtypes_expected.json"), "w") as f:
    json.dump(expected, f, indent=1)

# 2. sharded BF16 llama
shard_dir = os.path.join(here, "tiny-llama-bf16-sharded")
run(os.path.join(ref, "make_tiny.py"), "llama", shard_dir, "--dtype", "BF16", "--shard-bytes", "40000")
with open(os.path.join(here, "tiny-llama-bf16-sharded_expected.json"), "w") as f:
    json.dump(summary(st.load_checkpoint(shard_dir), dtypes_of_folder(shard_dir)), f, indent=1)

# 3. tiny BERT + reference logits (batch with right padding: the first row has attention_mask 0 at the end)
run(os.path.join(ref, "make_tiny.py"), "bert", bert_dir, "--num-labels", "3", "--std", "0.2")
with open(os.path.join(bert_dir, "model_expected.json"), "w") as f:
    json.dump(summary(st.load_checkpoint(bert_dir), dtypes_of_folder(bert_dir)), f, indent=1)
ids = ["101,7,8,102", "101,300,42,17,255,102", "101,5,102"]
args = [os.path.join(ref, "reference.py"), bert_dir]
for s in ids:
    args += ["--ids", s]
padded = json.loads(run(*args, "--pad", "right"))
alone = json.loads(run(*args))
out = {"command": "reference.py tiny-bert --ids " + " --ids ".join(ids) + " --pad right",
       "input_ids": padded["input_ids"], "attention_mask": padded["attention_mask"],
       "logits": padded["logits"], "logits_unpadded": alone["logits"]}
with open(os.path.join(bert_dir, "reference_logits.json"), "w") as f:
    json.dump(out, f, indent=1)
print("done")
