"""Golden values for tests/FineTune.MLNet.Tests/Llama2c (run from the repository root with /usr/bin/python3):

    /usr/bin/python3 tests/FineTune.MLNet.Tests/Fixtures/llama2c/make_golden.py

Reads the original stories260K.bin / tok512.bin (../shared/models/tinystories-260k) with ../shared/reference/llama2c.py,
writes the same weights in the other llama2.c layouts with a numpy port of llama2.c's export.py (version1_export,
version2_export with quantize_q80, legacy_export with an untied classifier) to a temporary folder, and records:
  files:  sha256 of each written file (the C# Llama2cCheckpointWriter must produce the same bytes)
  logits: llama2c.py teacher-forced logits (float64, run.c semantics) of each file for each id sequence, stored as
          the logsumexp of every position plus the values at every 8th vocabulary id (ids 0, 8, ..., 504)
  hf:     the same for the bundled HF folder run through ../shared/reference/reference.py (HF Llama semantics)
The untied file's classifier is the token embedding times 0.75 (float32), so it differs from the shared one.
"""
import hashlib, json, os, struct, subprocess, sys, tempfile
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
SHARED = os.path.abspath(os.path.join(ROOT, '..', 'shared'))
sys.path.insert(0, os.path.join(SHARED, 'reference'))
import llama2c  # noqa: E402

CKPT = os.path.join(SHARED, 'models', 'tinystories-260k', 'stories260K.bin')
TOK = os.path.join(SHARED, 'models', 'tinystories-260k', 'tok512.bin')
BUNDLED = os.path.join(ROOT, 'src', 'FineTune.MLNet', 'Models', 'Pretrained', 'tinystories-260k')
SEQUENCES = [
    [1],
    [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315],
    [1, 5, 260, 300, 511, 2, 17, 420, 99, 258],
]
STRIDE = 8


def f32(out, a): out.write(np.ascontiguousarray(a, dtype='<f4').tobytes())


def q80(out, w, gs):
    """export.py quantize_q80 + serialize_int8/serialize_fp32, in float32."""
    w = np.asarray(w, np.float32).reshape(-1, gs)
    wmax = np.abs(w).max(axis=1)
    scale = (wmax / np.float32(127.0)).astype(np.float32)
    with np.errstate(divide='ignore', invalid='ignore'):
        q = np.where(scale[:, None] == 0, 0, np.round(w / scale[:, None])).astype(np.int8)
    out.write(q.tobytes()); f32(out, scale)


def versioned(path, m, version, gs=0):
    with open(path, 'wb') as out:
        out.write(struct.pack('<Ii', llama2c.MAGIC, version))
        out.write(struct.pack('<7i', m['dim'], m['hidden'], m['L'], m['H'], m['KV'], m['vocab'], m['seq']))
        out.write(struct.pack('<B', 1 if m['shared'] else 0))
        n = 37
        if version == 2: out.write(struct.pack('<i', gs)); n += 4
        out.write(b'\0' * (256 - n))
        f32(out, m['rms_att']); f32(out, m['rms_ffn']); f32(out, m['rms_final'])
        mats = [m['emb']] + [m[k][l] for k in ('wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3') for l in range(m['L'])]
        if not m['shared']: mats.append(m['wcls'])
        for w in mats:
            if version == 1: f32(out, w)
            else: q80(out, w, gs)


def legacy(path, m):
    with open(path, 'wb') as out:
        vocab = m['vocab'] if m['shared'] else -m['vocab']
        out.write(struct.pack('<7i', m['dim'], m['hidden'], m['L'], m['H'], m['KV'], vocab, m['seq']))
        for k in ('emb', 'rms_att', 'wq', 'wk', 'wv', 'wo', 'rms_ffn', 'w1', 'w2', 'w3', 'rms_final'): f32(out, m[k])
        # freq_cis (unused by run.c): float64 math rounded to float32, so that writers agree to the bit
        hs = m['hs']; freqs = 1.0 / (10000.0 ** (np.arange(0, hs, 2, dtype=np.float64) / hs))
        ang = np.outer(np.arange(m['seq'], dtype=np.float64), freqs)
        f32(out, np.cos(ang)); f32(out, np.sin(ang))
        if not m['shared']: f32(out, m['wcls'])


def summary(logits):
    lg = np.asarray(logits, np.float64)
    mx = lg.max(-1, keepdims=True)
    lse = (mx[:, 0] + np.log(np.exp(lg - mx).sum(-1)))
    return {'logsumexp': lse.tolist(), 'sampled': lg[:, ::STRIDE].tolist()}


def main():
    base = llama2c.load(CKPT)
    tmp = tempfile.mkdtemp()
    files = {}
    untied = dict(base); untied['shared'] = False; untied['wcls'] = (base['emb'] * np.float32(0.75)).astype(np.float32)
    gs = 64
    while base['dim'] % gs: gs //= 2
    writers = {
        'v0.bin': lambda p: legacy(p, base),
        'v0-untied.bin': lambda p: legacy(p, untied),
        'v1.bin': lambda p: versioned(p, base, 1),
        'v1-untied.bin': lambda p: versioned(p, untied, 1),
        'v2.bin': lambda p: versioned(p, base, 2, gs),
    }
    golden = {'command': '/usr/bin/python3 tests/FineTune.MLNet.Tests/Fixtures/llama2c/make_golden.py', 'stride': STRIDE,
              'group_size': gs, 'sequences': SEQUENCES, 'files': {}, 'logits': {}}
    for name, write in writers.items():
        path = os.path.join(tmp, name); write(path)
        golden['files'][name] = hashlib.sha256(open(path, 'rb').read()).hexdigest()
        m = llama2c.load(path)
        golden['logits'][name] = [summary(llama2c.forward_all(m, s)) for s in SEQUENCES]
    golden['original_sha256'] = hashlib.sha256(open(CKPT, 'rb').read()).hexdigest()
    ref = os.path.join(SHARED, 'reference', 'reference.py')
    args = [sys.executable, ref, BUNDLED] + sum([['--ids', ','.join(map(str, s))] for s in SEQUENCES], [])
    hf = json.loads(subprocess.check_output(args))['logits']
    golden['hf'] = [summary(l) for l in hf]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden.json')
    with open(out, 'w') as f: json.dump(golden, f)
    print(out, {k: v[:12] for k, v in golden['files'].items()}, 'v0 == original:', golden['files']['v0.bin'] == golden['original_sha256'])


if __name__ == '__main__':
    main()
