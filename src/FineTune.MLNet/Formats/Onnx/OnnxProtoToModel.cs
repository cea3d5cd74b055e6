using System.Runtime.InteropServices;
using Proto = global::Onnx;

namespace FineTune.MLNet.Formats.Onnx;

/// <summary>
/// Maps parsed ONNX schema types (generated from onnx.proto) to the library's <see cref="OnnxModel"/>, checking what
/// the wire format cannot: a graph and an ir_version are present, every node has an op_type, dims are not negative
/// and their product fits, each tensor's payload matches its dims and data type (checked before typed fields are
/// converted), and no tensor is stored as string data. External data is read from the model's folder
/// (<see cref="OnnxExternalData"/>) when the model was read from a file; otherwise it is refused. Errors name the
/// tensor, node or value.
/// </summary>
internal sealed class OnnxProtoToModel(string? externalDataFolder)
{
    public OnnxModel Convert(Proto.ModelProto proto, string sourceName)
    {
        Proto.GraphProto graph = proto.Graph
            ?? throw new OnnxFormatException($"ONNX model '{sourceName}' has no graph (ModelProto field 7).");
        if (proto.IrVersion <= 0)
        {
            throw new OnnxFormatException($"ONNX model '{sourceName}' has no valid ir_version (got {proto.IrVersion}).");
        }
        var model = new OnnxModel
        {
            IrVersion = proto.IrVersion,
            ProducerName = proto.ProducerName,
            ProducerVersion = proto.ProducerVersion,
            Graph = ToGraph(graph, "graph"),
        };
        model.OpsetImports.AddRange(proto.OpsetImport.Select(o => new OnnxOpsetImport(o.Domain, o.Version)));
        return model;
    }

    private OnnxGraph ToGraph(Proto.GraphProto proto, string where)
    {
        string label = $"{where} '{proto.Name}'";
        if (proto.SparseInitializer.Count > 0)
        {
            throw new OnnxFormatException($"{label} has a sparse_initializer, which is not supported.");
        }
        var graph = new OnnxGraph { Name = proto.Name };
        for (int i = 0; i < proto.Node.Count; i++)
        {
            graph.Nodes.Add(ToNode(proto.Node[i], label, i));
        }
        for (int i = 0; i < proto.Initializer.Count; i++)
        {
            graph.Initializers.Add(ToTensor(proto.Initializer[i], $"{label} initializer #{i}"));
        }
        graph.Inputs.AddRange(proto.Input.Select(v => ToValueInfo(v, label)));
        graph.Outputs.AddRange(proto.Output.Select(v => ToValueInfo(v, label)));
        return graph;
    }

    /// <summary>Maps node <paramref name="index"/> of <paramref name="graph"/>; labels for errors are built only when one is thrown.</summary>
    private OnnxNode ToNode(Proto.NodeProto proto, string graph, int index)
    {
        if (proto.OpType.Length == 0)
        {
            throw new OnnxFormatException($"ONNX {graph} node #{index} ('{proto.Name}') has no op_type.");
        }
        return new OnnxNode
        {
            Name = proto.Name,
            OpType = proto.OpType,
            Domain = proto.Domain,
            Inputs = [.. proto.Input],
            Outputs = [.. proto.Output],
            Attributes = [.. proto.Attribute.Select(a => ToAttribute(a, graph, index))],
        };
    }

    private OnnxAttribute ToAttribute(Proto.AttributeProto proto, string graph, int node) => new()
    {
        Name = proto.Name,
        Type = (OnnxAttributeType)(int)proto.Type,
        F = proto.F,
        I = proto.I,
        S = proto.S.ToByteArray(),
        T = proto.T is null ? null : ToTensor(proto.T, $"{graph} node #{node} attribute '{proto.Name}'"),
        G = proto.G is null ? null : ToGraph(proto.G, $"{graph} node #{node} attribute '{proto.Name}' subgraph"),
        Floats = [.. proto.Floats],
        Ints = [.. proto.Ints],
    };

    private OnnxTensor ToTensor(Proto.TensorProto proto, string where)
    {
        string label = proto.Name.Length == 0 ? $"(unnamed, {where})" : proto.Name;
        if (proto.StringData.Count > 0)
        {
            throw new OnnxFormatException($"Tensor '{label}' uses string_data, which is not supported.");
        }
        var type = (OnnxDataType)proto.DataType;
        if (OnnxDataTypes.ElementSize(type) is null)
        {
            throw new OnnxFormatException($"Tensor '{label}' has unsupported data type {proto.DataType} ({type}).");
        }
        long[] dims = [.. proto.Dims];
        long count = OnnxTensor.CountElements(label, dims);
        ReadOnlyMemory<byte> payload = IsExternal(proto) ? ExternalPayload(proto, label, count * OnnxDataTypes.ElementSize(type)!.Value)
            : proto.RawData.Length > 0 || !HasTypedData(proto) ? proto.RawData.Memory // the parser's own copy: shared, not copied again
            : TypedPayload(label, type, count, proto);
        return new OnnxTensor(proto.Name, type, dims, payload);
    }

    private static bool IsExternal(Proto.TensorProto p) =>
        p.DataLocation == Proto.TensorProto.Types.DataLocation.External || p.ExternalData.Count > 0;

    private byte[] ExternalPayload(Proto.TensorProto proto, string label, long expectedBytes) =>
        externalDataFolder is null
            ? throw new OnnxFormatException(
                $"Tensor '{label}' is stored as external data (a separate weights file); read the model from its file path " +
                "so the data file beside it can be found.")
            : OnnxExternalData.Read(proto.ExternalData, label, externalDataFolder, expectedBytes);

    private static bool HasTypedData(Proto.TensorProto p) =>
        p.FloatData.Count > 0 || p.Int32Data.Count > 0 || p.Int64Data.Count > 0 || p.DoubleData.Count > 0 || p.Uint64Data.Count > 0;

    /// <summary>Converts the typed repeated field to little-endian bytes after checking its count against the dims.</summary>
    private static byte[] TypedPayload(string name, OnnxDataType type, long count, Proto.TensorProto p)
    {
        int found = type switch
        {
            OnnxDataType.Float => p.FloatData.Count,
            OnnxDataType.Int64 => p.Int64Data.Count,
            OnnxDataType.Double => p.DoubleData.Count,
            OnnxDataType.Int32 or OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Bool or
                OnnxDataType.Int16 or OnnxDataType.UInt16 or OnnxDataType.Float16 or OnnxDataType.BFloat16 => p.Int32Data.Count,
            _ => throw new OnnxFormatException($"Tensor '{name}': {type} without raw_data is not supported."),
        };
        if (found != count)
        {
            throw new OnnxFormatException($"Tensor '{name}': holds {found} {type} values in its typed field, expected {count} from its dims.");
        }
        return type switch
        {
            OnnxDataType.Float => MemoryMarshal.AsBytes(p.FloatData.ToArray().AsSpan()).ToArray(),
            OnnxDataType.Int64 => MemoryMarshal.AsBytes(p.Int64Data.ToArray().AsSpan()).ToArray(),
            OnnxDataType.Double => MemoryMarshal.AsBytes(p.DoubleData.ToArray().AsSpan()).ToArray(),
            OnnxDataType.Int32 => MemoryMarshal.AsBytes(p.Int32Data.ToArray().AsSpan()).ToArray(),
            OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Bool => [.. p.Int32Data.Select(v => unchecked((byte)v))],
            _ => MemoryMarshal.AsBytes(p.Int32Data.Select(v => unchecked((ushort)v)).ToArray().AsSpan()).ToArray(),
        };
    }

    private static OnnxValueInfo ToValueInfo(Proto.ValueInfoProto proto, string graph)
    {
        Proto.TypeProto.Types.Tensor? tensorType = proto.Type?.TensorType; // sequence and map types leave the type undefined
        return new OnnxValueInfo
        {
            Name = proto.Name,
            ElemType = tensorType is null ? OnnxDataType.Undefined : (OnnxDataType)tensorType.ElemType,
            Shape = tensorType?.Shape is { } shape ? [.. shape.Dim.Select(d => ToDim(d, proto.Name, graph))] : null,
        };
    }

    private static OnnxDim ToDim(Proto.TensorShapeProto.Types.Dimension dim, string value, string graph) => dim.ValueCase switch
    {
        Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue when dim.DimValue < 0 =>
            throw new OnnxFormatException($"Value '{value}' of {graph} has a negative dim_value {dim.DimValue}."),
        Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => OnnxDim.Fixed(dim.DimValue),
        Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => OnnxDim.Symbolic(dim.DimParam),
        _ => OnnxDim.Unknown,
    };
}
