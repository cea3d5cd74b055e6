using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Models.Bert;

namespace FineTune.MLNet.Export.Onnx;

/// <summary>
/// The ONNX blocks of <see cref="BertForSequenceClassification"/>, one function per module of <c>Models/Bert</c>.
/// Each takes and returns value names; comments give the shapes (B batch, T sequence, H hidden, I intermediate,
/// nh heads, d head width, C labels). Node and value names are module paths like
/// <c>/bert/encoder/layer.0/attention/self/query/MatMul</c>; weights are used by their HF keys.
/// </summary>
internal sealed class BertGraph
{
    private readonly OnnxGraphBuilder _g;
    private readonly OnnxWeightTable _w;
    private readonly BertConfig _config;

    public BertGraph(OnnxGraphBuilder graph, OnnxWeightTable weights, BertConfig config)
    {
        _g = graph;
        _w = weights;
        _config = config;
    }

    private long H => _config.HiddenSize;

    /// <summary>word + position (+ token type) embeddings, then LayerNorm. <c>BertEmbeddings</c>.</summary>
    /// <param name="inputIds">(B, T) int64.</param><param name="tokenTypeIds">(B, T) int64, or null without token types.</param>
    /// <returns>(B, T, H).</returns>
    public string Embeddings(string inputIds, string? tokenTypeIds)
    {
        const string p = "bert.embeddings.";
        var words = _g.Node("Gather", "/bert/embeddings/word_embeddings/Gather",
            [_w.Use(p + "word_embeddings.weight", _config.VocabSize, H), inputIds]);                       // (B, T, H)
        var seqLen = _g.Node("Shape", "/bert/embeddings/seq_len", [inputIds],
            OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2));                                // (1) = [T]
        var positions = _g.Node("Slice", "/bert/embeddings/position_embeddings/Slice",
            [_w.Use(p + "position_embeddings.weight", _config.MaxPositionEmbeddings, H), _g.Int64s("const_0_1d", 0), seqLen, _g.Int64s("const_0_1d", 0)]);   // (T, H)
        var sum = _g.Node("Add", "/bert/embeddings/add_positions", [words, positions]);              // (B, T, H)
        if (tokenTypeIds is not null)
        {
            var types = _g.Node("Gather", "/bert/embeddings/token_type_embeddings/Gather",
                [_w.Use(p + "token_type_embeddings.weight", _config.TypeVocabSize, H), tokenTypeIds]);   // (B, T, H)
            sum = _g.Node("Add", "/bert/embeddings/add_token_types", [sum, types]);                  // (B, T, H)
        }
        return LayerNorm(sum, "bert.embeddings.LayerNorm", "/bert/embeddings/LayerNorm");          // (B, T, H)
    }

    /// <summary>0 where the mask is 1, float.MinValue where it is 0, as <c>BertModel.AdditiveMask</c>.</summary>
    /// <param name="attentionMask">(B, T) int64.</param><returns>(B, 1, 1, T) float.</returns>
    public string AdditiveMask(string attentionMask)
    {
        var keep = _g.Node("Cast", "/bert/mask/keep", [attentionMask], OnnxAttribute.Int("to", (long)OnnxDataType.Bool));   // (B, T) bool
        var bias = _g.Node("Where", "/bert/mask/bias",
            [keep, _g.FloatScalar("const_zero", 0f), _g.FloatScalar("const_float_min", float.MinValue)]);                    // (B, T)
        return _g.Node("Unsqueeze", "/bert/mask/additive", [bias, _g.Int64s("const_axes_1_2", 1, 2)]);                       // (B, 1, 1, T)
    }

    /// <summary>Attention then feed-forward. <c>BertLayer</c>.</summary>
    /// <param name="x">(B, T, H).</param><param name="mask">(B, 1, 1, T).</param><returns>(B, T, H).</returns>
    public string Layer(int index, string x, string mask)
    {
        var key = $"bert.encoder.layer.{index}.";
        var path = $"/bert/encoder/layer.{index}/";
        var attended = SelfAttention(x, mask, key + "attention.self.", path + "attention/self/");                 // (B, T, H)
        var a = ResidualOutput(attended, x, H, key + "attention.output.", path + "attention/output/");            // (B, T, H)
        var h = Intermediate(a, key + "intermediate.", path + "intermediate/");                                  // (B, T, I)
        return ResidualOutput(h, a, _config.IntermediateSize, key + "output.", path + "output/");                 // (B, T, H)
    }

    /// <summary>Multi-head scaled dot-product attention with the additive mask. <c>BertSelfAttention</c>.</summary>
    /// <param name="x">(B, T, H).</param><param name="mask">(B, 1, 1, T).</param><returns>(B, T, H).</returns>
    private string SelfAttention(string x, string mask, string key, string path)
    {
        long heads = _config.NumAttentionHeads, d = _config.HeadDim;
        var headShape = _g.Int64s("const_shape_heads", 0, 0, heads, d);
        string Heads(string name, long[] perm)
        {
            var projected = Linear(x, key + name, H, H, path + name + "/");                              // (B, T, H)
            var split = _g.Node("Reshape", path + name + "/split_heads", [projected, headShape]);           // (B, T, nh, d)
            return _g.Node("Transpose", path + name + "/heads", [split], OnnxAttribute.IntList("perm", perm));
        }
        var q = Heads("query", [0, 2, 1, 3]);                                                            // (B, nh, T, d)
        var kT = Heads("key", [0, 2, 3, 1]);                                                             // (B, nh, d, T)
        var v = Heads("value", [0, 2, 1, 3]);                                                            // (B, nh, T, d)
        var scores = _g.Node("MatMul", path + "scores", [q, kT]);                                         // (B, nh, T, T)
        var scaled = _g.Node("Mul", path + "scaled_scores", [scores, _g.FloatScalar($"const_inv_sqrt_{d}", (float)(1 / Math.Sqrt(d)))]);   // (B, nh, T, T)
        var masked = _g.Node("Add", path + "masked_scores", [scaled, mask]);                              // (B, nh, T, T)
        var probs = _g.Node("Softmax", path + "probs", [masked], OnnxAttribute.Int("axis", -1));          // (B, nh, T, T)
        var context = _g.Node("MatMul", path + "context", [probs, v]);                                    // (B, nh, T, d)
        var merged = _g.Node("Transpose", path + "context/merge", [context], OnnxAttribute.IntList("perm", 0, 2, 1, 3));   // (B, T, nh, d)
        return _g.Node("Reshape", path + "context/merged", [merged, _g.Int64s("const_shape_hidden", 0, 0, H)]);              // (B, T, H)
    }

    /// <summary><c>LayerNorm(dense(h) + residual)</c>. <c>BertResidualOutput</c> (HF <c>BertSelfOutput</c> / <c>BertOutput</c>).</summary>
    /// <param name="h">(B, T, in).</param><param name="residual">(B, T, H).</param><returns>(B, T, H).</returns>
    private string ResidualOutput(string h, string residual, long inFeatures, string key, string path)
    {
        var dense = Linear(h, key + "dense", inFeatures, H, path + "dense/");                        // (B, T, H)
        var sum = _g.Node("Add", path + "residual", [dense, residual]);                              // (B, T, H)
        return LayerNorm(sum, key + "LayerNorm", path + "LayerNorm");                               // (B, T, H)
    }

    /// <summary><c>act(dense(x))</c>. <c>BertIntermediate</c>.</summary>
    /// <param name="x">(B, T, H).</param><returns>(B, T, I).</returns>
    private string Intermediate(string x, string key, string path)
    {
        var h = Linear(x, key + "dense", H, _config.IntermediateSize, path + "dense/");              // (B, T, I)
        return _config.HiddenAct switch
        {
            "gelu" => GeluErf(h, path + "gelu/"),
            "gelu_new" => GeluTanh(h, path + "gelu_tanh/"),
            "relu" => _g.Node("Relu", path + "relu", [h]),
            _ => throw new NotSupportedException($"ONNX export: hidden_act '{_config.HiddenAct}' is not supported (gelu, gelu_new, relu)."),
        };
    }

    /// <summary><c>act(dense(hidden[:, 0]))</c>: tanh (BERT pooler) or ReLU (DistilBERT pre_classifier). <c>BertPooler</c>.</summary>
    /// <param name="hidden">(B, T, H).</param><returns>(B, H).</returns>
    public string Pooler(string hidden)
    {
        var first = _g.Node("Gather", "/bert/pooler/first_token", [hidden, _g.Int64Scalar("const_index_0", 0)], OnnxAttribute.Int("axis", 1));   // (B, H)
        var dense = Linear(first, "bert.pooler.dense", H, H, "/bert/pooler/dense/");                               // (B, H)
        return _config.ModelType == "distilbert"
            ? _g.Node("Relu", "/bert/pooler/relu", [dense])                                                          // (B, H)
            : _g.Node("Tanh", "/bert/pooler/tanh", [dense]);                                                         // (B, H)
    }

    /// <summary>The linear head on the pooled state.</summary>
    /// <param name="pooled">(B, H).</param><returns>(B, C), named <paramref name="outputName"/>.</returns>
    public string Classifier(string pooled, string outputName) =>
        Linear(pooled, "classifier", H, _config.NumLabels, "/classifier/", outputName);

    /// <summary><c>x Wᵀ + b</c> with W stored [out, in] under <c>{key}.weight</c>.</summary>
    /// <param name="x">(..., in).</param><returns>(..., out).</returns>
    private string Linear(string x, string key, long inFeatures, long outFeatures, string path, string? outputName = null)
    {
        var weightT = _g.Node("Transpose", path + "weight_T", [_w.Use(key + ".weight", outFeatures, inFeatures)],
            OnnxAttribute.IntList("perm", 1, 0));                                                  // (in, out)
        var product = _g.Node("MatMul", path + "MatMul", [x, weightT]);                             // (..., out)
        return _g.Node("Add", outputName ?? path + "Add", [product, _w.Use(key + ".bias", outFeatures)]);   // (..., out)
    }

    /// <summary>LayerNormalization over the last axis with the config's epsilon.</summary>
    private string LayerNorm(string x, string key, string path) =>
        _g.Node("LayerNormalization", path, [x, _w.Use(key + ".weight", H), _w.Use(key + ".bias", H)],
            OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", (float)_config.LayerNormEps));

    /// <summary>Exact GELU: <c>x · ½ · (1 + erf(x / √2))</c>.</summary>
    private string GeluErf(string x, string path)
    {
        var scaled = _g.Node("Mul", path + "x_over_sqrt2", [x, _g.FloatScalar("const_inv_sqrt2", (float)(1 / Math.Sqrt(2)))]);
        var erf = _g.Node("Erf", path + "erf", [scaled]);
        var onePlus = _g.Node("Add", path + "one_plus_erf", [erf, _g.FloatScalar("const_one", 1f)]);
        var half = _g.Node("Mul", path + "half_x", [x, _g.FloatScalar("const_half", 0.5f)]);
        return _g.Node("Mul", path + "out", [half, onePlus]);
    }

    /// <summary>Tanh-approximate GELU (<c>gelu_new</c>): <c>½ · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))</c>.</summary>
    private string GeluTanh(string x, string path)
    {
        var square = _g.Node("Mul", path + "x2", [x, x]);
        var cube = _g.Node("Mul", path + "x3", [square, x]);
        var scaledCube = _g.Node("Mul", path + "c_x3", [cube, _g.FloatScalar("const_gelu_cubic", 0.044715f)]);
        var inner = _g.Node("Add", path + "x_plus_c_x3", [x, scaledCube]);
        var scaled = _g.Node("Mul", path + "scaled", [inner, _g.FloatScalar("const_sqrt_2_over_pi", (float)Math.Sqrt(2 / Math.PI))]);
        var tanh = _g.Node("Tanh", path + "tanh", [scaled]);
        var onePlus = _g.Node("Add", path + "one_plus_tanh", [tanh, _g.FloatScalar("const_one", 1f)]);
        var half = _g.Node("Mul", path + "half_x", [x, _g.FloatScalar("const_half", 0.5f)]);
        return _g.Node("Mul", path + "out", [half, onePlus]);
    }
}
