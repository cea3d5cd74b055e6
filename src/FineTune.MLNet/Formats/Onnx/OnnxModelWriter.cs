using Google.Protobuf;
using Proto = global::Onnx;

namespace FineTune.MLNet.Formats.Onnx;

/// <summary>
/// Serializes an <see cref="OnnxModel"/> to ONNX protobuf bytes with Google.Protobuf and the ONNX schema types generated
/// from onnx.proto (NuGet OnnxSharp): the same subset <see cref="OnnxModelReader"/> reads (ir_version, producer,
/// opset_import, graph with nodes, attributes, initializers, inputs and outputs with tensor types and fixed or
/// symbolic dims). Tensors are written as raw_data, shared with the <see cref="OnnxTensor"/> (not copied).
/// The schema types are proto3, so zero scalars (an Int attribute of 0, an empty string) are left out of the bytes,
/// which readers take as the same zero. A model file over 2 GB (the protobuf limit) is refused: larger models are written
/// with <see cref="WriteWithExternalData"/>, which puts the large initializers in a data file beside the model.
/// </summary>
public static class OnnxModelWriter
{
    public static byte[] ToBytes(OnnxModel model) => ToProto(model).ToByteArray();

    public static void Write(OnnxModel model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ToProto(model).WriteTo(stream);
    }

    public static void Write(OnnxModel model, string path)
    {
        Proto.ModelProto proto = ToProto(model);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        proto.WriteTo(stream);
    }

    /// <summary>
    /// Writes <paramref name="path"/> with every initializer of at least <paramref name="minExternalBytes"/> bytes stored as
    /// ONNX external data in <c>&lt;file name&gt;.data</c> beside it (4096-byte aligned offsets), as ONNX Runtime and
    /// ONNX Runtime GenAI load large models. Both files are written atomically, the data file first.
    /// </summary>
    public static void WriteWithExternalData(OnnxModel model, string path, long minExternalBytes = 1024)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(minExternalBytes);
        string full = Path.GetFullPath(path);
        string location = Path.GetFileName(full) + ".data";
        List<OnnxTensor> large = [.. model.Graph.Initializers.Where(t => t.RawData.Length >= minExternalBytes)];
        var external = new Dictionary<OnnxTensor, Proto.TensorProto>(ReferenceEqualityComparer.Instance);
        foreach (var (tensor, proto) in large.Zip(OnnxExternalData.Layout(large, location, TensorHeader)))
        {
            external[tensor] = proto;
        }
        Proto.ModelProto header = ToProto(model, external);
        AtomicFile.Write(Path.Combine(Path.GetDirectoryName(full)!, location), s => OnnxExternalData.WriteData(large, s));
        AtomicFile.Write(full, s => header.WriteTo(s));
    }

    private static Proto.ModelProto ToProto(OnnxModel model, IReadOnlyDictionary<OnnxTensor, Proto.TensorProto>? external = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var proto = new Proto.ModelProto
        {
            IrVersion = model.IrVersion,
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Graph = ToProto(model.Graph, external),
        };
        proto.OpsetImport.AddRange(model.OpsetImports.Select(o => new Proto.OperatorSetIdProto { Domain = o.Domain, Version = o.Version }));
        return proto;
    }

    /// <summary>The graph; initializers found in <paramref name="external"/> are written as those external-data headers.</summary>
    private static Proto.GraphProto ToProto(OnnxGraph graph, IReadOnlyDictionary<OnnxTensor, Proto.TensorProto>? external = null)
    {
        long payloadBytes = graph.Initializers.Where(t => external?.ContainsKey(t) != true).Sum(t => (long)t.RawData.Length);
        if (payloadBytes > int.MaxValue)
        {
            throw new NotSupportedException(
                $"Graph '{graph.Name}' has {payloadBytes} bytes of initializers; ONNX protobuf files are limited to 2 GB: " +
                "write it with OnnxModelWriter.WriteWithExternalData.");
        }
        var proto = new Proto.GraphProto { Name = graph.Name };
        proto.Node.AddRange(graph.Nodes.Select(ToProto));
        proto.Initializer.AddRange(graph.Initializers.Select(t => external?.GetValueOrDefault(t) ?? ToProto(t)));
        proto.Input.AddRange(graph.Inputs.Select(ToProto));
        proto.Output.AddRange(graph.Outputs.Select(ToProto));
        return proto;
    }

    private static Proto.NodeProto ToProto(OnnxNode node)
    {
        var proto = new Proto.NodeProto { Name = node.Name, OpType = node.OpType, Domain = node.Domain };
        proto.Input.AddRange(node.Inputs);
        proto.Output.AddRange(node.Outputs);
        proto.Attribute.AddRange(node.Attributes.Select(ToProto));
        return proto;
    }

    private static Proto.AttributeProto ToProto(OnnxAttribute attribute)
    {
        var proto = new Proto.AttributeProto { Name = attribute.Name, Type = (Proto.AttributeProto.Types.AttributeType)(int)attribute.Type };
        switch (attribute.Type)
        {
            case OnnxAttributeType.Float: proto.F = attribute.F; break;
            case OnnxAttributeType.Int: proto.I = attribute.I; break;
            case OnnxAttributeType.String: proto.S = ByteString.CopyFrom(attribute.S); break;
            case OnnxAttributeType.Tensor:
                proto.T = ToProto(attribute.T ?? throw new ArgumentException($"Attribute '{attribute.Name}' has type Tensor but no T value."));
                break;
            case OnnxAttributeType.Graph:
                proto.G = ToProto(attribute.G ?? throw new ArgumentException($"Attribute '{attribute.Name}' has type Graph but no G value."));
                break;
            case OnnxAttributeType.Floats: proto.Floats.AddRange(attribute.Floats); break;
            case OnnxAttributeType.Ints: proto.Ints.AddRange(attribute.Ints); break;
            default:
                throw new NotSupportedException($"Attribute '{attribute.Name}': writing type {attribute.Type} is not supported.");
        }
        return proto;
    }

    private static Proto.TensorProto ToProto(OnnxTensor tensor)
    {
        Proto.TensorProto proto = TensorHeader(tensor);
        proto.RawData = UnsafeByteOperations.UnsafeWrap(tensor.RawData); // OnnxTensor payloads are never mutated
        return proto;
    }

    /// <summary>Name, data type and dims, without the payload.</summary>
    private static Proto.TensorProto TensorHeader(OnnxTensor tensor)
    {
        var proto = new Proto.TensorProto { DataType = (int)tensor.DataType, Name = tensor.Name };
        proto.Dims.AddRange(tensor.Dims);
        return proto;
    }

    private static Proto.ValueInfoProto ToProto(OnnxValueInfo info)
    {
        var tensorType = new Proto.TypeProto.Types.Tensor { ElemType = (int)info.ElemType };
        if (info.Shape is { } shape)
        {
            tensorType.Shape = new Proto.TensorShapeProto();
            tensorType.Shape.Dim.AddRange(shape.Select(ToProto));
        }
        return new Proto.ValueInfoProto { Name = info.Name, Type = new Proto.TypeProto { TensorType = tensorType } };
    }

    private static Proto.TensorShapeProto.Types.Dimension ToProto(OnnxDim dim)
    {
        var proto = new Proto.TensorShapeProto.Types.Dimension();
        if (dim.Value is long value)
        {
            proto.DimValue = value;
        }
        else if (dim.Param is string param)
        {
            proto.DimParam = param;
        }
        return proto;
    }
}
