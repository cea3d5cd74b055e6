using FineTune.MLNet.Formats.Onnx;

namespace FineTune.MLNet.Export.Onnx;

/// <summary>
/// Appends nodes and initializers to an <see cref="OnnxGraph"/>. Each node is named by a path such as
/// <c>/encoder/layer.0/attention/self/query/MatMul</c> and its (single) output value carries the same name, so a
/// graph viewer shows where every value comes from. Names must be unique; a repeated one throws.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names = [];
    private readonly Dictionary<string, string> _scalarConstants = [];

    public OnnxGraphBuilder(string graphName) => Graph = new OnnxGraph { Name = graphName };

    public OnnxGraph Graph { get; }

    /// <summary>Adds one node with a single output named <paramref name="name"/>; returns that output name.</summary>
    public string Node(string opType, string name, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
    {
        Claim(name);
        Graph.Nodes.Add(new OnnxNode
        {
            Name = name,
            OpType = opType,
            Inputs = [.. inputs],
            Outputs = { name },
            Attributes = [.. attributes],
        });
        return name;
    }

    /// <summary>Adds an initializer under its own name; returns the name.</summary>
    public string Initializer(OnnxTensor tensor)
    {
        Claim(tensor.Name);
        Graph.Initializers.Add(tensor);
        return tensor.Name;
    }

    /// <summary>A float scalar initializer (rank 0), shared by every use of the same value.</summary>
    public string FloatScalar(string name, float value) =>
        Shared($"f:{name}:{BitConverter.SingleToInt32Bits(value)}", () => OnnxTensor.FromFloats(name, [], [value]));

    /// <summary>A 1-D int64 initializer (shapes, axes, slice bounds), shared by every use of the same name.</summary>
    public string Int64s(string name, params long[] values) =>
        Shared($"i:{name}:{string.Join(",", values)}", () => OnnxTensor.FromInt64s(name, [values.Length], values));

    /// <summary>An int64 scalar initializer (rank 0), e.g. a Gather index.</summary>
    public string Int64Scalar(string name, long value) =>
        Shared($"s:{name}:{value}", () => OnnxTensor.FromInt64s(name, [], [value]));

    private string Shared(string key, Func<OnnxTensor> create)
    {
        if (!_scalarConstants.TryGetValue(key, out var name))
        {
            name = Initializer(create());
            _scalarConstants[key] = name;
        }
        return name;
    }

    private void Claim(string name)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"ONNX graph '{Graph.Name}': the value name '{name}' is used twice.");
        }
    }
}
