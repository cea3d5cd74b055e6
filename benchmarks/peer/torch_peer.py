#!/usr/bin/env python3
"""PyTorch eager peer of the FineTune.MLNet benchmark scenarios (issue 11 section 4).

Runs the same shapes, dtype (float32) and thread count as the C# scenarios of the same name, and prints one line
``RESULT {json}`` with ``step_s`` and ``tokens_per_s`` (the C# runner reads it and alternates it with ours).

  python3 torch_peer.py --scenario train-full|train-lora|inference|sft-lora --threads N [--quick]

- train-full: MiniLM-L6-shaped BERT (vocab 30522, H 384, 6 layers, 12 heads, I 1536, GELU, dropout 0.1) + pooler +
  3-class head, batch 16 x 128: forward, cross-entropy, backward, clip 1.0, AdamW (wd 0.01 except bias/LayerNorm), zero grad.
- train-lora: the same with LoRA r 8, alpha 16, dropout 0.1 on query and value; adapters, pooler and head train.
- inference: eval + no_grad forward at 16 x 128 (2x the timed steps, as the C# scenario).
- sft-lora: small llama (4 layers, hidden 256, GQA 8/4, I 688, vocab 8192, untied head, RoPE theta 1e4), batch 8 x 256,
  LoRA r 16, alpha 32, dropout 0.05 on all block linears, mean next-token cross-entropy over all positions,
  backward, clip 1.0, AdamW over the adapters.

Weights are random (same shapes as the bundled MiniLM; speed does not depend on their values). LoRA is a minimal
LoRA linear written here (PEFT's lora.Linear forward: base(x) + B(A(dropout(x))) * alpha / r) because PEFT and
transformers are not installed offline. Attention is eager (matmul, softmax, matmul), as Hugging Face's eager
attention; torch 1.13 has no fused scaled_dot_product_attention.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoraLinear(nn.Module):
    """A frozen nn.Linear plus PEFT's low-rank update: y = x W^T + b + B(A(dropout(x))) * alpha / r."""

    def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float):
        super().__init__()
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(self.dropout(x))) * self.scaling


# ---------------------------------------------------------------- MiniLM-shaped BERT classifier
class BertLayer(nn.Module):
    def __init__(self, h, heads, inter, p):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_out, self.attn_norm = nn.Linear(h, h), nn.LayerNorm(h, eps=1e-12)
        self.inter, self.out, self.out_norm = nn.Linear(h, inter), nn.Linear(inter, h), nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(p)

    def forward(self, x, mask):                                        # x (B, T, H), mask (B, 1, 1, T) additive
        b, t, h = x.shape
        d = h // self.heads
        q = self.query(x).view(b, t, self.heads, d).transpose(1, 2)    # (B, nh, T, d)
        k = self.key(x).view(b, t, self.heads, d).transpose(1, 2)
        v = self.value(x).view(b, t, self.heads, d).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask         # (B, nh, T, T)
        probs = self.drop(scores.softmax(-1))
        y = (probs @ v).transpose(1, 2).reshape(b, t, h)               # (B, T, H)
        x = self.attn_norm(self.drop(self.attn_out(y)) + x)
        return self.out_norm(self.drop(self.out(F.gelu(self.inter(x)))) + x)


class BertClassifier(nn.Module):
    def __init__(self, vocab=30522, h=384, layers=6, heads=12, inter=1536, labels=3, p=0.1):
        super().__init__()
        self.word, self.pos, self.token_type = nn.Embedding(vocab, h), nn.Embedding(512, h), nn.Embedding(2, h)
        self.emb_norm, self.drop = nn.LayerNorm(h, eps=1e-12), nn.Dropout(p)
        self.layers = nn.ModuleList([BertLayer(h, heads, inter, p) for _ in range(layers)])
        self.pooler, self.classifier = nn.Linear(h, h), nn.Linear(h, labels)

    def forward(self, ids, attention_mask, types):
        t = ids.shape[1]
        x = self.word(ids) + self.pos(torch.arange(t).unsqueeze(0)) + self.token_type(types)
        x = self.drop(self.emb_norm(x))                                # (B, T, H)
        mask = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, mask)
        pooled = torch.tanh(self.pooler(x[:, 0]))                      # (B, H)
        return self.classifier(self.drop(pooled))                      # (B, C)

    def add_lora(self, r, alpha, dropout):
        for p in self.parameters():
            p.requires_grad_(False)
        for layer in self.layers:
            layer.query = LoraLinear(layer.query, r, alpha, dropout)
            layer.value = LoraLinear(layer.value, r, alpha, dropout)
        for p in list(self.pooler.parameters()) + list(self.classifier.parameters()):
            p.requires_grad_(True)


# ---------------------------------------------------------------- small llama
class RmsNorm(nn.Module):
    def __init__(self, h, eps=1e-5):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(h)), eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class LlamaLayer(nn.Module):
    def __init__(self, h, heads, kv, inter):
        super().__init__()
        self.heads, self.kv, self.d = heads, kv, h // heads
        self.q_proj, self.k_proj = nn.Linear(h, heads * self.d, bias=False), nn.Linear(h, kv * self.d, bias=False)
        self.v_proj, self.o_proj = nn.Linear(h, kv * self.d, bias=False), nn.Linear(heads * self.d, h, bias=False)
        self.gate_proj, self.up_proj = nn.Linear(h, inter, bias=False), nn.Linear(h, inter, bias=False)
        self.down_proj = nn.Linear(inter, h, bias=False)
        self.input_layernorm, self.post_attention_layernorm = RmsNorm(h), RmsNorm(h)

    def attention(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.d).transpose(1, 2)    # (B, nh, T, d)
        k = self.k_proj(x).view(b, t, self.kv, self.d).transpose(1, 2)       # (B, nkv, T, d)
        v = self.v_proj(x).view(b, t, self.kv, self.d).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        rep = self.heads // self.kv                                           # HF repeat_kv
        k = k[:, :, None].expand(b, self.kv, rep, t, self.d).reshape(b, self.heads, t, self.d)
        v = v[:, :, None].expand(b, self.kv, rep, t, self.d).reshape(b, self.heads, t, self.d)
        probs = (q @ k.transpose(2, 3) / math.sqrt(self.d) + mask).softmax(-1)   # (B, nh, T, T)
        return self.o_proj((probs @ v).transpose(1, 2).reshape(b, t, -1))

    def forward(self, x, cos, sin, mask):
        x = x + self.attention(self.input_layernorm(x), cos, sin, mask)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class SmallLlama(nn.Module):
    def __init__(self, vocab=8192, h=256, layers=4, heads=8, kv=4, inter=688, theta=10000.0):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, h)
        self.layers = nn.ModuleList([LlamaLayer(h, heads, kv, inter) for _ in range(layers)])
        self.norm, self.lm_head = RmsNorm(h), nn.Linear(h, vocab, bias=False)
        d = h // heads
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, d, 2).float() / d))
        for _, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, 0, 0.02)

    def forward(self, ids):
        b, t = ids.shape
        x = self.embed_tokens(ids)                                            # (B, T, C)
        freqs = torch.arange(t).float()[:, None] * self.inv_freq              # (T, d/2)
        emb = torch.cat([freqs, freqs], -1)[None, None]                       # (1, 1, T, d)
        cos, sin = emb.cos().expand(b, 1, t, -1), emb.sin().expand(b, 1, t, -1)
        allowed = torch.ones(t, t, dtype=torch.bool).tril()
        mask = torch.zeros(1, 1, t, t).masked_fill(~allowed, torch.finfo(torch.float32).min)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.norm(x)).float()                             # (B, T, V)

    def add_lora(self, r, alpha, dropout):
        for p in self.parameters():
            p.requires_grad_(False)
        for layer in self.layers:
            for name in ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]:
                setattr(layer, name, LoraLinear(getattr(layer, name), r, alpha, dropout))


# ---------------------------------------------------------------- scenarios
def classifier_step(model, optimizer, params, ids, mask, types, labels):
    loss = F.cross_entropy(model(ids, mask, types), labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss


def run(scenario, warmup, timed):
    torch.manual_seed(0)
    if scenario in ("train-full", "train-lora", "inference"):
        b, t = 16, 128
        model = BertClassifier()
        if scenario == "train-lora":
            model.add_lora(8, 16, 0.1)
        ids = torch.randint(1000, 30000, (b, t))
        ids[:, 0] = 101
        mask, types = torch.ones(b, t, dtype=torch.long), torch.zeros(b, t, dtype=torch.long)
        labels = torch.randint(0, 3, (b,))
        if scenario == "inference":
            model.eval()
            with torch.no_grad():
                for _ in range(warmup):
                    model(ids, mask, types)
                steps = 2 * timed
                start = time.perf_counter()
                for _ in range(steps):
                    model(ids, mask, types)
                return b * t, (time.perf_counter() - start) / steps
        model.train()
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        decay = [p for n, p in named if not (n.endswith(".bias") or "norm" in n)]
        rest = [p for n, p in named if n.endswith(".bias") or "norm" in n]
        params = [p for _, p in named]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=2e-5)
        step = lambda: classifier_step(model, optimizer, params, ids, mask, types, labels)
    elif scenario == "sft-lora":
        b, t = 8, 256
        model = SmallLlama()
        model.add_lora(16, 32, 0.05)
        model.train()
        ids = torch.randint(3, 8192, (b, t))
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)

        def step():
            logits = model(ids)                                               # (B, T, V)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            return loss
    else:
        raise SystemExit(f"unknown scenario '{scenario}'; expected train-full, train-lora, inference or sft-lora")

    for _ in range(warmup):
        step()
    total = 0.0
    for _ in range(timed):
        start = time.perf_counter()
        loss = step()
        total += time.perf_counter() - start
        if not math.isfinite(loss.item()):
            raise SystemExit("peer training loss is not finite")
    return b * t, total / timed


def gemm_gflops(n=1024, repeats=3):
    """This process's fp32 GEMM rate (best of repeats, n x n x n), beside the scenario: which BLAS the peer really got."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2.0 * n ** 3 / best / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warmup, timed = (1, 2) if args.quick else (2, 6)                          # BenchmarkSettings' steps
    tokens, step_s = run(args.scenario, warmup, timed)
    print("RESULT " + json.dumps({"Name": args.scenario, "Values": {
        "step_s": step_s, "tokens_per_s": tokens / step_s, "threads": float(torch.get_num_threads()),
        "gemm_1024_gflops": gemm_gflops()}}))


if __name__ == "__main__":
    main()
