using static TorchSharp.torch;

namespace FineTune.MLNet.Modules;

/// <summary>
/// Causal self-attention with rotary embeddings and grouped-query heads, HF <c>LlamaAttention</c> with
/// <c>sdpa_attention_forward</c> (HF's default): libtorch's <c>scaled_dot_product_attention</c> of
/// <c>softmax(q kᵀ / √d + mask) v</c>, which on CPU runs a fused, memory-efficient (flash) kernel that never holds the
/// (T × S) probabilities for the backward; a null mask means plain causal attention (<c>is_causal</c>, no mask tensor).
/// Query head h reads kv head <c>h / (heads / kv_heads)</c> (<c>repeat_kv</c>). <see cref="EagerAttention"/> switches
/// to HF's <c>eager_attention_forward</c> (matmul, float32 softmax, matmul), kept for comparisons. Projections are
/// given by the builder; field names are the checkpoint's (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>o_proj</c>).
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

    /// <summary>HF <c>attn_implementation="eager"</c>: materialise the (B, nh, T, S) scores and probabilities (for comparisons).</summary>
    internal bool EagerAttention { get; set; }

    /// <param name="x">(B, T, C).</param>
    /// <param name="cos">(B, 1, T, d) from <see cref="RotaryEmbedding.CosSin"/>.</param>
    /// <param name="sin">(B, 1, T, d).</param>
    /// <param name="mask">Additive (B or 1, 1, T, S) from <see cref="CausalMask.Build"/>, S = cached + T; null for plain
    /// causal attention without padding or cache (S = T).</param>
    /// <param name="cache">When given, this layer's past keys/values are prepended and the new ones stored.</param>
    /// <param name="layerIndex">This layer's slot in <paramref name="cache"/>.</param>
    /// <returns>(B, T, C).</returns>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layerIndex)
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
        if (mask is null && k.shape[2] != t)
            throw new ArgumentException($"A null mask means plain causal attention over the new positions, but there are {k.shape[2]} keys for {t} queries.", nameof(mask));
        var attended = EagerAttention ? Eager(q, k, v, mask ?? CausalMask.Build(1, t, 0, null, q.dtype, q.device))
            : nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.0, is_casual: mask is null);   // (B, nh, T, d)
        var y = attended.transpose(1, 2).reshape(b, t, heads * headDim);                    // (B, T, nh·d)
        return o_proj.forward(y).MoveToOuterDisposeScope();                                  // (B, T, C)
    }

    /// <summary>HF <c>eager_attention_forward</c>: softmax in float32 over the materialised scores.</summary>
    private Tensor Eager(Tensor q, Tensor k, Tensor v, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var scores = matmul(q, k.transpose(2, 3)).mul(1.0 / Math.Sqrt(headDim)).add(mask);   // (B, nh, T, S)
        var probs = scores.softmax(-1, ScalarType.Float32).to_type(q.dtype);                 // (B, nh, T, S)
        return matmul(probs, v).MoveToOuterDisposeScope();                                    // (B, nh, T, d)
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
