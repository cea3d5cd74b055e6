namespace FineTune.MLNet.Formats.Onnx;

/// <summary>An ONNX <c>OperatorSetIdProto</c>; domain "" is the default ai.onnx domain.</summary>
public sealed record OnnxOpsetImport(string Domain, long Version);

/// <summary>An ONNX <c>GraphProto</c> (the subset: name, nodes, initializers, inputs, outputs).</summary>
public sealed class OnnxGraph
{
    public string Name { get; set; } = "";

    public List<OnnxNode> Nodes { get; init; } = [];

    public List<OnnxTensor> Initializers { get; init; } = [];

    public List<OnnxValueInfo> Inputs { get; init; } = [];

    public List<OnnxValueInfo> Outputs { get; init; } = [];
}

/// <summary>An ONNX <c>ModelProto</c> (the subset this library reads and writes).</summary>
public sealed class OnnxModel
{
    /// <summary>ONNX IR version; 8 is what opset 13-18 exporters write and every ONNX Runtime 1.1x+ loads.</summary>
    public long IrVersion { get; set; } = 8;

    public string ProducerName { get; set; } = "";

    public string ProducerVersion { get; set; } = "";

    public List<OnnxOpsetImport> OpsetImports { get; init; } = [];

    public OnnxGraph Graph { get; set; } = new();

    /// <summary>The default-domain (ai.onnx) opset version, or null if the model does not import it.</summary>
    public long? DefaultOpset => OpsetImports.Find(o => o.Domain is "" or "ai.onnx")?.Version;
}
