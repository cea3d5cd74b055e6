#!/usr/bin/python3
"""Golden numbers for the NF4 tests: an independent numpy re-implementation of bitsandbytes'
quantize_4bit(W, blocksize=64, quant_type="nf4", compress_statistics=True) as its pure-torch
("default" backend) kernels do it: absmax per 64-block, x * (1/absmax) clamped to [-1, 1], nearest code
by argmin |x - code| (ties to the lower code), two codes per byte (first in the high nibble); then
offset = mean(absmax), (absmax - offset) quantized in blocks of 256 with the signed 8-bit dynamic map.
Differs from bitsandbytes only for all-zero blocks: the zero code (7) instead of code 0 (both decode to 0).

Usage (from this folder):  /usr/bin/python3 make_nf4_fixture.py
Writes <case>.weight.f32 (raw little-endian float32), <case>.dequantized.f32 and nf4_reference.json."""
import json
import numpy as np

NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
                0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], dtype=np.float32)
F32 = np.float32


def dynamic_map():
    """bitsandbytes create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)."""
    data = []
    for i in range(7):
        items = 2 ** i + 1
        b = np.linspace(0.1, 1.0, items).astype(F32)
        means = ((b[:-1] + b[1:]) / F32(2.0)).astype(F32)
        scale = F32(10.0 ** (-6 + i))
        data += list((scale * means).astype(F32))
        data += list((-scale * means).astype(F32))
    data += [F32(0.0), F32(1.0)]
    assert len(data) == 256
    return np.array(sorted(data), dtype=F32)


def nearest(x, code):
    return np.argmin(np.abs(x[..., None] - code), axis=-1)


def blockwise(values, block, code):
    n = values.size
    nb = -(-n // block)
    padded = np.zeros(nb * block, dtype=F32)
    padded[:n] = values
    blocks = padded.reshape(nb, block)
    absmax = np.abs(blocks).max(axis=1).astype(F32)
    inv = np.where(absmax > 0, F32(1.0) / np.where(absmax > 0, absmax, F32(1.0)), F32(0.0)).astype(F32)
    scaled = np.clip(blocks * inv[:, None], F32(-1.0), F32(1.0)).astype(F32)
    return nearest(scaled, code).reshape(-1), absmax


def quantize(w, dmap):
    flat = w.astype(F32).reshape(-1)
    n = flat.size
    codes, absmax = blockwise(flat, 64, NF4)
    nbytes = -(-n // 2)
    codes = codes[: 2 * nbytes].astype(np.uint8)
    packed = (codes[0::2] << 4) | codes[1::2]
    offset = F32(absmax.astype(np.float64).mean())
    centered = (absmax - offset).astype(F32)
    qabs, scales = blockwise(centered, 256, dmap)
    qabs = qabs[: absmax.size].astype(np.uint8)
    return packed, absmax, qabs, scales, offset


def dequantize(packed, qabs, scales, offset, n, dmap):
    nb = qabs.size
    vals = np.zeros(scales.size * 256, dtype=F32)
    vals[:nb] = dmap[qabs]
    absmax = ((vals.reshape(-1, 256) * scales[:, None]).reshape(-1)[:nb] + offset).astype(F32)
    codes = np.stack([packed >> 4, packed & 0xF], axis=1).reshape(-1)
    v = np.zeros(nb * 64, dtype=F32)
    v[: codes.size] = NF4[codes]
    w = (v.reshape(nb, 64) * absmax[:, None]).reshape(-1)[:n].astype(F32)
    return w, absmax


def main():
    rng = np.random.default_rng(20230523)
    dmap = dynamic_map()
    cases = {}
    big = (rng.standard_normal((260, 67)) * 0.02).astype(F32)
    flat = big.reshape(-1)
    flat[640:704] = 0.0            # an all-zero block (block 10)
    flat[1000] = F32(1.5)          # an outlier dominating block 15
    flat[2 * 64: 3 * 64] = (NF4[np.arange(64) % 16] * F32(0.05)).astype(F32)  # block 2: exact code * absmax
    small = (rng.standard_normal((5, 13))).astype(F32)   # 65 values: odd count, 1-element last block
    for name, w in (("gaussian_260x67", big), ("odd_5x13", small)):
        packed, absmax, qabs, scales, offset = quantize(w, dmap)
        deq, absmax_dq = dequantize(packed, qabs, scales, offset, w.size, dmap)
        w.astype("<f4").tofile(f"{name}.weight.f32")
        deq.astype("<f4").tofile(f"{name}.dequantized.f32")
        cases[name] = {
            "shape": list(w.shape),
            "packed_codes_hex": packed.tobytes().hex(),
            "absmax": [float(x) for x in absmax],
            "absmax_codes": [int(x) for x in qabs],
            "absmax_scales": [float(x) for x in scales],
            "absmax_offset": float(offset),
            "absmax_dequantized": [float(x) for x in absmax_dq],
        }
    out = {"dynamic_map": [float(x) for x in dmap], "cases": cases}
    with open("nf4_reference.json", "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
