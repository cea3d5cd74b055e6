namespace FineTune.MLNet.Formats.Onnx;

/// <summary>ONNX <c>AttributeProto.AttributeType</c> values (numbers fixed by onnx.proto).</summary>
public enum OnnxAttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

/// <summary>An ONNX <c>AttributeProto</c> (the subset: f, i, s, t, g, floats, ints).</summary>
public sealed class OnnxAttribute
{
    public required string Name { get; init; }

    public OnnxAttributeType Type { get; init; }

    public float F { get; init; }

    public long I { get; init; }

    public byte[] S { get; init; } = [];

    public OnnxTensor? T { get; init; }

    public OnnxGraph? G { get; init; }

    public IReadOnlyList<float> Floats { get; init; } = [];

    public IReadOnlyList<long> Ints { get; init; } = [];

    public static OnnxAttribute Int(string name, long value) => new() { Name = name, Type = OnnxAttributeType.Int, I = value };

    public static OnnxAttribute Float(string name, float value) => new() { Name = name, Type = OnnxAttributeType.Float, F = value };

    public static OnnxAttribute IntList(string name, params long[] values) => new() { Name = name, Type = OnnxAttributeType.Ints, Ints = values };

    public static OnnxAttribute FloatList(string name, params float[] values) => new() { Name = name, Type = OnnxAttributeType.Floats, Floats = values };

    public static OnnxAttribute Text(string name, string value) =>
        new() { Name = name, Type = OnnxAttributeType.String, S = System.Text.Encoding.UTF8.GetBytes(value) };

    public static OnnxAttribute Tensor(string name, OnnxTensor value) => new() { Name = name, Type = OnnxAttributeType.Tensor, T = value };
}

/// <summary>An ONNX <c>NodeProto</c>: one operator application.</summary>
public sealed class OnnxNode
{
    public string Name { get; set; } = "";

    public required string OpType { get; init; }

    public string Domain { get; init; } = "";

    /// <summary>Input value names; "" marks an omitted optional input.</summary>
    public List<string> Inputs { get; init; } = [];

    public List<string> Outputs { get; init; } = [];

    public List<OnnxAttribute> Attributes { get; init; } = [];

    public OnnxAttribute? FindAttribute(string name) => Attributes.Find(a => a.Name == name);

    public override string ToString() => $"{OpType} '{Name}' ({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)})";
}
