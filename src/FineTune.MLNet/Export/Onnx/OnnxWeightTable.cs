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
    private readonly IReadOnlyDictionary<string, Tensor> _weights;
    private readonly OnnxGraphBuilder _graph;
    private readonly OnnxWeightPrecision _precision;
    private readonly Dictionary<string, string> _used = [];

    /// <param name="weights">HF-named tensors (any float dtype, any device); not disposed here.</param>
    public OnnxWeightTable(IReadOnlyDictionary<string, Tensor> weights, OnnxGraphBuilder graph, OnnxWeightPrecision precision)
    {
        _weights = weights;
        _graph = graph;
        _precision = precision;
    }

    /// <summary>The float32 value holding weight <paramref name="key"/>, which must have shape <paramref name="shape"/>.</summary>
    public string Use(string key, params long[] shape)
    {
        if (_used.TryGetValue(key, out var existing))
        {
            return existing;
        }
        if (!_weights.TryGetValue(key, out var tensor))
        {
            throw new InvalidOperationException(
                $"ONNX export: the model has no weight '{key}' (it has {_weights.Count} weights, e.g. {string.Join(", ", _weights.Keys.Take(3))}).");
        }
        if (!tensor.shape.SequenceEqual(shape))
        {
            throw new InvalidOperationException(
                $"ONNX export: weight '{key}' has shape [{string.Join(", ", tensor.shape)}], expected [{string.Join(", ", shape)}] from the config.");
        }
        var value = _precision == OnnxWeightPrecision.Float32
            ? _graph.Initializer(OnnxTensor.FromFloats(key, shape, Floats(tensor)))
            : _graph.Node("Cast", key + "/Cast", [_graph.Initializer(ToFloat16(key, shape, Floats(tensor)))],
                OnnxAttribute.Int("to", (long)OnnxDataType.Float));
        _used[key] = value;
        return value;
    }

    /// <summary>Throws when some weight was never used by the graph (listing the first few by name).</summary>
    public void ThrowIfAnyUnused()
    {
        var unused = _weights.Keys.Where(k => !_used.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
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
