using static TorchSharp.torch;

namespace FineTune.MLNet.Modules;

/// <summary>
/// Causal self-attention with rotary embeddings and grouped-query heads, HF <c>LlamaAttention</c> with
/// <c>eager_attention_forward</c>: <c>softmax(q kᵀ / √d + mask)</c> in float32, query head h reads kv head
/// <c>h / (heads / kv_heads)</c> (<c>repeat_kv</c>). Projections are given by the builder; field names are the
/// checkpoint's (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>o_proj</c>).
/// </summary>
public sealed class GroupedQueryAttention : nn.Module
{
    private readonly nn.Module<Tensor, Tensor> q_proj;   // (heads·d, C)
    private readonly nn.Module<Tensor, Tensor> k_proj;   // (kv·d, C)
    private readonly nn.Module<Tensor, Tensor> v_proj;   // (kv·d, C)
    private readonly nn.Module<Tensor, Tensor> o_proj;   // (C, heads·d)
    private readonly int heads;
    private readonly int kvHeads;
    private readonly int headDim;

    public GroupedQueryAttention(int heads, int kvHeads, int headDim,
        nn.Module<Tensor, Tensor> qProj, nn.Module<Tensor, Tensor> kProj, nn.Module<Tensor, Tensor> vProj, nn.Module<Tensor, Tensor> oProj)
        : base("self_attn")
    {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
            throw new ArgumentException($"heads ({heads}) must be a positive multiple of kvHeads ({kvHeads}).", nameof(kvHeads));
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        q_proj = qProj;
        k_proj = kProj;
        v_proj = vProj;
        o_proj = oProj;
        RegisterComponents();
    }

    /// <param name="x">(B, T, C).</param>
    /// <param name="cos">(B, 1, T, d) from <see cref="RotaryEmbedding.CosSin"/>.</param>
    /// <param name="sin">(B, 1, T, d).</param>
    /// <param name="mask">Additive (B or 1, 1, T, S) from <see cref="CausalMask.Build"/>, S = cached + T.</param>
    /// <param name="cache">When given, this layer's past keys/values are prepended and the new ones stored.</param>
    /// <param name="layerIndex">This layer's slot in <paramref name="cache"/>.</param>
    /// <returns>(B, T, C).</returns>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCache? cache, int layerIndex)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, heads, headDim).transpose(1, 2);      // (B, nh, T, d)
        var k = k_proj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);    // (B, nkv, T, d)
        var v = v_proj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);    // (B, nkv, T, d)
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null)
        {
            (k, v) = cache.Append(layerIndex, k, v);                                 // (B, nkv, S, d)
        }
        k = RepeatKv(k);                                                             // (B, nh, S, d)
        v = RepeatKv(v);                                                             // (B, nh, S, d)
        var scores = matmul(q, k.transpose(2, 3)).mul(1.0 / Math.Sqrt(headDim)).add(mask);   // (B, nh, T, S)
        var probs = scores.softmax(-1, ScalarType.Float32).to_type(q.dtype);                 // (B, nh, T, S)
        var y = matmul(probs, v).transpose(1, 2).reshape(b, t, heads * headDim);             // (B, T, nh·d)
        return o_proj.forward(y).MoveToOuterDisposeScope();                                  // (B, T, C)
    }

    /// <summary>HF <c>repeat_kv</c>: (B, nkv, S, d) → (B, nkv·rep, S, d), each kv head repeated consecutively.</summary>
    private Tensor RepeatKv(Tensor kv)
    {
        int rep = heads / kvHeads;
        if (rep == 1) return kv;
        long b = kv.shape[0], s = kv.shape[2];
        return kv.unsqueeze(2).expand(b, kvHeads, rep, s, headDim).reshape(b, heads, s, headDim);
    }
}
