using System.Runtime.InteropServices;
using FineTune.MLNet.Formats.Onnx;
using static TorchSharp.torch;

namespace FineTune.MLNet.Export.Onnx;

/// <summary>
/// The model's weights by Hugging Face key, turned into graph initializers on first use. <see cref="Use"/> checks the
/// shape, adds the initializer under the HF name (float32, or float16 followed by a <c>Cast</c> to float32) and returns
/// the float32 value name to compute with. <see cref="ThrowIfAnyUnused"/> makes sure the exporter consumed every
/// weight, so a model part the exporter does not know cannot be dropped silently.
/// </summary>
internal sealed class OnnxWeightTable
{
    private readonly IReadOnlyDictionary<string, Tensor> weights;
    private readonly OnnxGraphBuilder graph;
    private readonly OnnxWeightPrecision precision;
    private readonly Dictionary<string, string> used = [];

    /// <param name="weights">HF-named tensors (any float dtype, any device); not disposed here.</param>
    public OnnxWeightTable(IReadOnlyDictionary<string, Tensor> weights, OnnxGraphBuilder graph, OnnxWeightPrecision precision)
    {
        this.weights = weights;
        this.graph = graph;
        this.precision = precision;
    }

    /// <summary>The float32 value holding weight <paramref name="key"/>, which must have shape <paramref name="shape"/>.</summary>
    public string Use(string key, params long[] shape)
    {
        if (used.TryGetValue(key, out var existing))
        {
            return existing;
        }
        if (!weights.TryGetValue(key, out var tensor))
        {
            throw new InvalidOperationException(
                $"ONNX export: the model has no weight '{key}' (it has {weights.Count} weights, e.g. {string.Join(", ", weights.Keys.Take(3))}).");
        }
        if (!tensor.shape.SequenceEqual(shape))
        {
            throw new InvalidOperationException(
                $"ONNX export: weight '{key}' has shape [{string.Join(", ", tensor.shape)}], expected [{string.Join(", ", shape)}] from the config.");
        }
        var value = precision == OnnxWeightPrecision.Float32
            ? graph.Initializer(OnnxTensor.FromFloats(key, shape, Floats(tensor)))
            : graph.Node("Cast", key + "/Cast", [graph.Initializer(ToFloat16(key, shape, Floats(tensor)))],
                OnnxAttribute.Int("to", (long)OnnxDataType.Float));
        used[key] = value;
        return value;
    }

    /// <summary>Throws when some weight was never used by the graph (listing the first few by name).</summary>
    public void ThrowIfAnyUnused()
    {
        var unused = weights.Keys.Where(k => !used.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (unused.Count > 0)
        {
            throw new InvalidOperationException(
                $"ONNX export: {unused.Count} weight(s) of the model have no place in the exported graph: {string.Join(", ", unused.Take(5))}" +
                (unused.Count > 5 ? ", ..." : "") + ".");
        }
    }

    private static float[] Floats(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        return tensor.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
    }

    private static OnnxTensor ToFloat16(string key, long[] shape, float[] values)
    {
        var halves = new Half[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            halves[i] = (Half)values[i];
            if (!Half.IsFinite(halves[i]))
            {
                throw new InvalidOperationException(
                    $"ONNX export: weight '{key}' element {i} = {values[i]} does not fit in float16 (|x| <= 65504); export with Float32 weights.");
            }
        }
        return new OnnxTensor(key, OnnxDataType.Float16, shape, MemoryMarshal.AsBytes(halves.AsSpan()).ToArray());
    }
}
