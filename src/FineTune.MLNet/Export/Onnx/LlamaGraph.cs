using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Models.Llama;

namespace FineTune.MLNet.Export.Onnx;

/// <summary>
/// The ONNX blocks of <see cref="LlamaForCausalLM"/>, one function per module of <c>Models/Llama</c> and
/// <c>Modules</c>. Each takes and returns value names; comments give the shapes (B batch, T sequence, C hidden,
/// I intermediate, nh query heads, nkv key/value heads, d head width, V vocabulary). Node and value names are module
/// paths like <c>/model/layers.0/self_attn/q_proj/MatMul</c>; weights are used by their HF keys. Everything is float32.
/// </summary>
internal sealed class LlamaGraph
{
    /// <summary>Name of the RoPE inverse-frequency initializer (as HF's non-persistent buffer).</summary>
    public const string InvFreqName = "model.rotary_emb.inv_freq";

    private readonly OnnxGraphBuilder _g;
    private readonly OnnxWeightTable _w;
    private readonly LlamaConfig _config;

    public LlamaGraph(OnnxGraphBuilder graph, OnnxWeightTable weights, LlamaConfig config)
    {
        _g = graph;
        _w = weights;
        _config = config;
    }

    /// <summary>Value names of one layer's KV cache: the past inputs (B, nkv, P, d) and the present outputs (B, nkv, P + T, d).</summary>
    public sealed record LayerCache(string PastKey, string PastValue, string PresentKey, string PresentValue);

    private long C => _config.HiddenSize;
    private long D => _config.EffectiveHeadDim;
    private long Heads => _config.NumAttentionHeads;
    private long KvHeads => _config.KeyValueHeads;

    /// <summary>Token embeddings. <c>embed_tokens</c>.</summary>
    /// <param name="inputIds">(B, T) int64.</param><returns>(B, T, C).</returns>
    public string Embeddings(string inputIds) =>
        _g.Node("Gather", "/model/embed_tokens/Gather", [_w.Use("model.embed_tokens.weight", _config.VocabSize, C), inputIds]);

    /// <summary>
    /// cos and sin of <c>position · inv_freq</c> in the half-split layout (<c>cat(freqs, freqs)</c>), as
    /// <see cref="Modules.RotaryEmbedding.CosSin"/>. <paramref name="invFreq"/> is already scaled (linear / llama3).
    /// </summary>
    /// <param name="positionIds">(B, T) int64.</param><returns>cos, sin: (B, 1, T, d) each.</returns>
    public (string Cos, string Sin) RotaryCosSin(string positionIds, IReadOnlyList<float> invFreq)
    {
        const string p = "/model/rotary_emb/";
        var inv = _g.Initializer(OnnxTensor.FromFloats(InvFreqName, [invFreq.Count], [.. invFreq]));                     // (d/2)
        var pos = _g.Node("Cast", p + "positions_float", [positionIds], OnnxAttribute.Int("to", (long)OnnxDataType.Float));   // (B, T)
        var column = _g.Node("Unsqueeze", p + "positions_column", [pos, _g.Int64s("const_axes_neg1", -1)]);                 // (B, T, 1)
        var freqs = _g.Node("Mul", p + "freqs", [column, inv]);                                                            // (B, T, d/2)
        var emb = _g.Node("Concat", p + "emb", [freqs, freqs], OnnxAttribute.Int("axis", -1));                             // (B, T, d)
        var perHead = _g.Node("Unsqueeze", p + "emb_heads", [emb, _g.Int64s("const_axes_1", 1)]);                           // (B, 1, T, d)
        return (_g.Node("Cos", p + "cos", [perHead]), _g.Node("Sin", p + "sin", [perHead]));
    }

    /// <summary>
    /// Causal + padding mask as <see cref="Modules.CausalMask.Build"/> without a cache: 0 where query i may see key j
    /// (<c>j ≤ i</c> and <c>attention_mask[b, j] = 1</c>), float.MinValue elsewhere.
    /// </summary>
    /// <param name="attentionMask">(B, T) int64.</param><returns>(B, 1, T, T) float.</returns>
    public string CausalMask(string attentionMask)
    {
        const string p = "/model/mask/";
        var shape = _g.Node("Shape", p + "seq_len", [attentionMask], OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2));   // (1) = [T]
        var length = _g.Node("Squeeze", p + "seq_len_scalar", [shape, _g.Int64s("const_axes_0", 0)]);                             // () = T
        var positions = _g.Node("Range", p + "positions", [_g.Int64Scalar("const_scalar_0", 0), length, _g.Int64Scalar("const_scalar_1", 1)]);   // (T)
        var queries = _g.Node("Unsqueeze", p + "query_positions", [positions, _g.Int64s("const_axes_1", 1)]);                      // (T, 1)
        var keys = _g.Node("Unsqueeze", p + "key_positions", [positions, _g.Int64s("const_axes_0", 0)]);                           // (1, T)
        var causal = _g.Node("LessOrEqual", p + "causal", [keys, queries]);                                                       // (T, T) bool
        var keep = _g.Node("Cast", p + "keep", [attentionMask], OnnxAttribute.Int("to", (long)OnnxDataType.Bool));               // (B, T) bool
        var keepKeys = _g.Node("Unsqueeze", p + "keep_keys", [keep, _g.Int64s("const_axes_1_2", 1, 2)]);                           // (B, 1, 1, T)
        var allowed = _g.Node("And", p + "allowed", [causal, keepKeys]);                                                          // (B, 1, T, T)
        return _g.Node("Where", p + "additive",
            [allowed, _g.FloatScalar("const_zero", 0f), _g.FloatScalar("const_float_min", float.MinValue)]);                     // (B, 1, T, T)
    }

    /// <summary>
    /// Causal + padding mask with a KV cache of P past positions, as <see cref="Modules.CausalMask.Build"/> with
    /// <c>pastLength</c>: query i (absolute position P + i) may see key j when <c>j ≤ P + i</c> and
    /// <c>attention_mask[b, j] = 1</c>; 0 there, float.MinValue elsewhere. P = <c>attention_mask</c>'s length − T.
    /// </summary>
    /// <param name="attentionMask">(B, P + T) int64.</param><param name="inputIds">(B, T) int64.</param>
    /// <returns>(B, 1, T, P + T) float.</returns>
    public string CausalMaskWithPast(string attentionMask, string inputIds)
    {
        const string p = "/model/mask/";
        var totalShape = _g.Node("Shape", p + "total_len", [attentionMask], OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2));   // (1) = [P + T]
        var total = _g.Node("Squeeze", p + "total_len_scalar", [totalShape, _g.Int64s("const_axes_0", 0)]);                        // () = P + T
        var seqShape = _g.Node("Shape", p + "seq_len", [inputIds], OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2));      // (1) = [T]
        var length = _g.Node("Squeeze", p + "seq_len_scalar", [seqShape, _g.Int64s("const_axes_0", 0)]);                           // () = T
        var past = _g.Node("Sub", p + "past_len", [total, length]);                                                               // () = P
        var one = _g.Int64Scalar("const_scalar_1", 1);
        var queryPositions = _g.Node("Range", p + "query_range", [past, total, one]);                                             // (T) = P .. P+T−1
        var keyPositions = _g.Node("Range", p + "key_range", [_g.Int64Scalar("const_scalar_0", 0), total, one]);                    // (P + T)
        var queries = _g.Node("Unsqueeze", p + "query_positions", [queryPositions, _g.Int64s("const_axes_1", 1)]);                  // (T, 1)
        var keys = _g.Node("Unsqueeze", p + "key_positions", [keyPositions, _g.Int64s("const_axes_0", 0)]);                         // (1, P + T)
        var causal = _g.Node("LessOrEqual", p + "causal", [keys, queries]);                                                        // (T, P + T) bool
        var keep = _g.Node("Cast", p + "keep", [attentionMask], OnnxAttribute.Int("to", (long)OnnxDataType.Bool));                // (B, P + T) bool
        var keepKeys = _g.Node("Unsqueeze", p + "keep_keys", [keep, _g.Int64s("const_axes_1_2", 1, 2)]);                            // (B, 1, 1, P + T)
        var allowed = _g.Node("And", p + "allowed", [causal, keepKeys]);                                                           // (B, 1, T, P + T)
        return _g.Node("Where", p + "additive",
            [allowed, _g.FloatScalar("const_zero", 0f), _g.FloatScalar("const_float_min", float.MinValue)]);                      // (B, 1, T, P + T)
    }

    /// <summary>
    /// <c>x + attn(rms(x))</c>, then <c>+ mlp(rms(·))</c>. <c>LlamaDecoderLayer</c>. With <paramref name="cache"/>,
    /// the layer's past keys/values are prepended to the current ones and the concatenations are the present outputs.
    /// </summary>
    /// <param name="x">(B, T, C).</param><param name="cos">(B, 1, T, d).</param><param name="sin">(B, 1, T, d).</param>
    /// <param name="mask">(B, 1, T, S), S = T without a cache, P + T with one.</param><returns>(B, T, C).</returns>
    public string Layer(int index, string x, string cos, string sin, string mask, LayerCache? cache = null)
    {
        var key = $"model.layers.{index}.";
        var path = $"/model/layers.{index}/";
        var normed = RmsNorm(x, key + "input_layernorm", path + "input_layernorm/");                           // (B, T, C)
        var attended = Attention(normed, cos, sin, mask, cache, key + "self_attn.", path + "self_attn/");      // (B, T, C)
        var h = _g.Node("Add", path + "attn_residual", [x, attended]);                                          // (B, T, C)
        var normed2 = RmsNorm(h, key + "post_attention_layernorm", path + "post_attention_layernorm/");      // (B, T, C)
        var mlp = SwiGlu(normed2, key + "mlp.", path + "mlp/");                                                // (B, T, C)
        return _g.Node("Add", path + "mlp_residual", [h, mlp]);                                                 // (B, T, C)
    }

    /// <summary>The final norm. <c>model.norm</c>.</summary>
    /// <param name="x">(B, T, C).</param><returns>(B, T, C).</returns>
    public string FinalNorm(string x) => RmsNorm(x, "model.norm", "/model/norm/");

    /// <summary><c>h Wᵀ</c> with <c>lm_head.weight</c>, or the embedding table when embeddings are tied.</summary>
    /// <param name="h">(B, T, C).</param><returns>(B, T, V), named <paramref name="outputName"/>.</returns>
    public string LmHead(string h, string outputName)
    {
        var key = _config.TieWordEmbeddings ? "model.embed_tokens" : "lm_head";
        return Linear(h, key, C, _config.VocabSize, hasBias: false, "/lm_head/", outputName);
    }

    /// <summary>
    /// Grouped-query causal attention with rotary embeddings. <c>GroupedQueryAttention</c>. S is the key length:
    /// T without a cache, P + T with one (keys cached after RoPE and before the kv-head repeat, as HF's cache).
    /// </summary>
    /// <param name="x">(B, T, C).</param><returns>(B, T, C).</returns>
    private string Attention(string x, string cos, string sin, string mask, LayerCache? cache, string key, string path)
    {
        string Project(string name, long heads)
        {
            var projected = Linear(x, key + name, C, heads * D, _config.QkvBias, path + name + "/");                           // (B, T, h·d)
            var split = _g.Node("Reshape", path + name + "/split_heads", [projected, _g.Int64s($"const_shape_heads_{heads}", 0, 0, heads, D)]);   // (B, T, h, d)
            return _g.Node("Transpose", path + name + "/heads", [split], OnnxAttribute.IntList("perm", 0, 2, 1, 3));           // (B, h, T, d)
        }
        var q = Rope(Project("q_proj", Heads), cos, sin, path + "q_rope/");                                  // (B, nh, T, d)
        var k = Rope(Project("k_proj", KvHeads), cos, sin, path + "k_rope/");                                // (B, nkv, T, d)
        var v = Project("v_proj", KvHeads);                                                                  // (B, nkv, T, d)
        if (cache is not null)
        {
            k = _g.Node("Concat", cache.PresentKey, [cache.PastKey, k], OnnxAttribute.Int("axis", 2));        // (B, nkv, S, d)
            v = _g.Node("Concat", cache.PresentValue, [cache.PastValue, v], OnnxAttribute.Int("axis", 2));    // (B, nkv, S, d)
        }
        k = RepeatKv(k, path + "k_repeat/");                                                                 // (B, nh, S, d)
        v = RepeatKv(v, path + "v_repeat/");                                                                 // (B, nh, S, d)
        var kT = _g.Node("Transpose", path + "k_T", [k], OnnxAttribute.IntList("perm", 0, 1, 3, 2));          // (B, nh, d, S)
        var scores = _g.Node("MatMul", path + "scores", [q, kT]);                                             // (B, nh, T, S)
        var scaled = _g.Node("Mul", path + "scaled_scores", [scores, _g.FloatScalar($"const_inv_sqrt_{D}", (float)(1 / Math.Sqrt(D)))]);   // (B, nh, T, S)
        var masked = _g.Node("Add", path + "masked_scores", [scaled, mask]);                                  // (B, nh, T, S)
        var probs = _g.Node("Softmax", path + "probs", [masked], OnnxAttribute.Int("axis", -1));              // (B, nh, T, S)
        var context = _g.Node("MatMul", path + "context", [probs, v]);                                        // (B, nh, T, d)
        var merged = _g.Node("Transpose", path + "context/merge", [context], OnnxAttribute.IntList("perm", 0, 2, 1, 3));   // (B, T, nh, d)
        var flat = _g.Node("Reshape", path + "context/merged", [merged, _g.Int64s($"const_shape_merge_{Heads * D}", 0, 0, Heads * D)]);   // (B, T, nh·d)
        return Linear(flat, key + "o_proj", Heads * D, C, _config.OutputBias, path + "o_proj/");              // (B, T, C)
    }

    /// <summary><c>x · cos + rotate_half(x) · sin</c>, rotate_half = <c>cat(−x[..., d/2:], x[..., :d/2])</c>. <c>RotaryEmbedding.Apply</c>.</summary>
    /// <param name="x">(B, h, T, d).</param><returns>(B, h, T, d).</returns>
    private string Rope(string x, string cos, string sin, string path)
    {
        long half = D / 2;
        var axis = _g.Int64s("const_axes_neg1", -1);
        var x1 = _g.Node("Slice", path + "x1", [x, _g.Int64s("const_0_1d", 0), _g.Int64s($"const_{half}_1d", half), axis]);   // (B, h, T, d/2)
        var x2 = _g.Node("Slice", path + "x2", [x, _g.Int64s($"const_{half}_1d", half), _g.Int64s($"const_{D}_1d", D), axis]);  // (B, h, T, d/2)
        var negX2 = _g.Node("Neg", path + "neg_x2", [x2]);                                                     // (B, h, T, d/2)
        var rotated = _g.Node("Concat", path + "rotate_half", [negX2, x1], OnnxAttribute.Int("axis", -1));     // (B, h, T, d)
        var xCos = _g.Node("Mul", path + "x_cos", [x, cos]);                                                   // (B, h, T, d)
        var rSin = _g.Node("Mul", path + "rotated_sin", [rotated, sin]);                                       // (B, h, T, d)
        return _g.Node("Add", path + "out", [xCos, rSin]);                                                     // (B, h, T, d)
    }

    /// <summary>HF <c>repeat_kv</c>: each kv head repeated nh/nkv times consecutively.</summary>
    /// <param name="kv">(B, nkv, T, d).</param><returns>(B, nh, T, d).</returns>
    private string RepeatKv(string kv, string path)
    {
        long rep = Heads / KvHeads;
        if (rep == 1) return kv;
        var unsqueezed = _g.Node("Unsqueeze", path + "unsqueeze", [kv, _g.Int64s("const_axes_2", 2)]);                        // (B, nkv, 1, T, d)
        var expanded = _g.Node("Expand", path + "expand", [unsqueezed, _g.Int64s($"const_expand_rep_{rep}", 1, 1, rep, 1, 1)]);   // (B, nkv, rep, T, d)
        return _g.Node("Reshape", path + "merge", [expanded, _g.Int64s($"const_shape_repeat_{Heads}", 0, Heads, -1, D)]);       // (B, nh, T, d)
    }

    /// <summary><c>down(silu(gate(x)) · up(x))</c> with <c>silu(z) = z · sigmoid(z)</c>. <c>SwiGluMlp</c>.</summary>
    /// <param name="x">(B, T, C).</param><returns>(B, T, C).</returns>
    private string SwiGlu(string x, string key, string path)
    {
        long i = _config.IntermediateSize;
        var gate = Linear(x, key + "gate_proj", C, i, _config.MlpBias, path + "gate_proj/");                // (B, T, I)
        var sigmoid = _g.Node("Sigmoid", path + "sigmoid", [gate]);                                          // (B, T, I)
        var silu = _g.Node("Mul", path + "silu", [gate, sigmoid]);                                           // (B, T, I)
        var up = Linear(x, key + "up_proj", C, i, _config.MlpBias, path + "up_proj/");                      // (B, T, I)
        var product = _g.Node("Mul", path + "gated", [silu, up]);                                            // (B, T, I)
        return Linear(product, key + "down_proj", i, C, _config.MlpBias, path + "down_proj/");              // (B, T, C)
    }

    /// <summary>
    /// <c>weight · x / √(mean(x²) + eps)</c> over the last axis, as <see cref="Modules.RmsNorm"/> (decomposed into
    /// Pow / ReduceMean / Add / Sqrt / Div / Mul; opset 17 has no RMSNormalization).
    /// </summary>
    /// <param name="x">(B, T, C).</param><returns>(B, T, C).</returns>
    private string RmsNorm(string x, string key, string path)
    {
        var square = _g.Node("Pow", path + "pow", [x, _g.FloatScalar("const_two", 2f)]);                                         // (B, T, C)
        var variance = _g.Node("ReduceMean", path + "variance", [square], OnnxAttribute.IntList("axes", -1), OnnxAttribute.Int("keepdims", 1));   // (B, T, 1)
        var shifted = _g.Node("Add", path + "variance_eps", [variance, _g.FloatScalar("const_rms_eps", (float)_config.RmsNormEps)]);   // (B, T, 1)
        var rms = _g.Node("Sqrt", path + "rms", [shifted]);                                                                    // (B, T, 1)
        var normed = _g.Node("Div", path + "normed", [x, rms]);                                                                // (B, T, C)
        return _g.Node("Mul", path + "scaled", [normed, _w.Use(key + ".weight", C)]);                                           // (B, T, C)
    }

    /// <summary><c>x Wᵀ (+ b)</c> with W stored [out, in] under <c>{key}.weight</c>.</summary>
    /// <param name="x">(..., in).</param><returns>(..., out).</returns>
    private string Linear(string x, string key, long inFeatures, long outFeatures, bool hasBias, string path, string? outputName = null)
    {
        var weightT = _g.Node("Transpose", path + "weight_T", [_w.Use(key + ".weight", outFeatures, inFeatures)],
            OnnxAttribute.IntList("perm", 1, 0));                                                             // (in, out)
        if (!hasBias)
        {
            return _g.Node("MatMul", outputName ?? path + "MatMul", [x, weightT]);                             // (..., out)
        }
        var product = _g.Node("MatMul", path + "MatMul", [x, weightT]);                                        // (..., out)
        return _g.Node("Add", outputName ?? path + "Add", [product, _w.Use(key + ".bias", outFeatures)]);      // (..., out)
    }
}
