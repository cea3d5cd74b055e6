using System.Runtime.InteropServices;

namespace FineTune.MLNet.Formats.Onnx;

/// <summary>
/// Parses an ONNX <c>ModelProto</c> from protobuf bytes without generated code. Reads ir_version,
/// opset_import, producer, and the graph's name, nodes (with attributes), initializers, inputs and
/// outputs; every other field is skipped. Rejects, with an <see cref="OnnxFormatException"/> naming
/// the message and byte offset: truncated or overflowing varints, lengths past the end, negative dims,
/// payload sizes that do not match dims, unsupported data types and tensors stored as external data.
/// Field numbers follow onnx/onnx.proto.
/// </summary>
public static class OnnxModelReader
{
    public static OnnxModel Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new FileNotFoundException($"ONNX model file not found: '{path}'.", path);
        }
        return Read(bytes, Path.GetFileName(path));
    }

    public static OnnxModel Read(Stream stream, string sourceName = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek)
        {
            long length = stream.Length - stream.Position;
            if (length > Array.MaxLength)
            {
                throw new OnnxFormatException($"ONNX model '{sourceName}' is {length} bytes; protobuf models are limited to 2 GB.");
            }
            byte[] exact = new byte[length];
            stream.ReadExactly(exact);
            return Read(exact, sourceName);
        }
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Read(copy.GetBuffer().AsMemory(0, (int)copy.Length), sourceName);
    }

    /// <summary>Parses <paramref name="bytes"/>; returned tensors share this memory.</summary>
    public static OnnxModel Read(ReadOnlyMemory<byte> bytes, string sourceName = "bytes")
    {
        try
        {
            return ReadModel(bytes, sourceName);
        }
        catch (OnnxFormatException e) when (!e.Message.Contains($"'{sourceName}'", StringComparison.Ordinal))
        {
            throw new OnnxFormatException($"ONNX model '{sourceName}': {e.Message}", e); // tensor checks do not know the file
        }
    }

    private static OnnxModel ReadModel(ReadOnlyMemory<byte> bytes, string sourceName)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The ONNX reader assumes a little-endian host.");
        }
        if (bytes.IsEmpty)
        {
            throw new OnnxFormatException($"ONNX model '{sourceName}' is empty.");
        }
        var reader = new ProtoReader(bytes, $"ModelProto '{sourceName}'");
        var model = new OnnxModel();
        bool sawGraph = false;
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1:
                    reader.ExpectWireType(wire, WireType.Varint, "ir_version");
                    model.IrVersion = reader.ReadInt64();
                    break;
                case 2:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "producer_name");
                    model.ProducerName = reader.ReadString();
                    break;
                case 3:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "producer_version");
                    model.ProducerVersion = reader.ReadString();
                    break;
                case 7:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "graph");
                    model.Graph = ReadGraph(reader.ReadMessage("GraphProto"));
                    sawGraph = true;
                    break;
                case 8:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "opset_import");
                    model.OpsetImports.Add(ReadOpset(reader.ReadMessage("OperatorSetIdProto")));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        if (!sawGraph)
        {
            throw new OnnxFormatException($"ONNX model '{sourceName}' has no graph (ModelProto field 7).");
        }
        if (model.IrVersion <= 0)
        {
            throw new OnnxFormatException($"ONNX model '{sourceName}' has no valid ir_version (got {model.IrVersion}).");
        }
        return model;
    }

    private static OnnxOpsetImport ReadOpset(ProtoReader reader)
    {
        string domain = "";
        long version = 0;
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "domain");
                    domain = reader.ReadString();
                    break;
                case 2:
                    reader.ExpectWireType(wire, WireType.Varint, "version");
                    version = reader.ReadInt64();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        return new OnnxOpsetImport(domain, version);
    }

    private static OnnxGraph ReadGraph(ProtoReader reader)
    {
        var graph = new OnnxGraph();
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "node");
                    graph.Nodes.Add(ReadNode(reader.ReadMessage($"NodeProto #{graph.Nodes.Count}")));
                    break;
                case 2:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "name");
                    graph.Name = reader.ReadString();
                    break;
                case 5:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "initializer");
                    graph.Initializers.Add(ReadTensor(reader.ReadMessage($"initializer #{graph.Initializers.Count}")));
                    break;
                case 11:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "input");
                    graph.Inputs.Add(ReadValueInfo(reader.ReadMessage($"input #{graph.Inputs.Count}")));
                    break;
                case 12:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "output");
                    graph.Outputs.Add(ReadValueInfo(reader.ReadMessage($"output #{graph.Outputs.Count}")));
                    break;
                case 15:
                    throw reader.Error("sparse_initializer is not supported");
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        return graph;
    }

    private static OnnxNode ReadNode(ProtoReader reader)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<OnnxAttribute>();
        string name = "", opType = "", domain = "";
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "input");
                    inputs.Add(reader.ReadString());
                    break;
                case 2:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "output");
                    outputs.Add(reader.ReadString());
                    break;
                case 3:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "name");
                    name = reader.ReadString();
                    break;
                case 4:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "op_type");
                    opType = reader.ReadString();
                    break;
                case 5:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "attribute");
                    attributes.Add(ReadAttribute(reader.ReadMessage($"AttributeProto #{attributes.Count}")));
                    break;
                case 7:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "domain");
                    domain = reader.ReadString();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        if (opType.Length == 0)
        {
            throw reader.Error("node has no op_type");
        }
        return new OnnxNode { Name = name, OpType = opType, Domain = domain, Inputs = inputs, Outputs = outputs, Attributes = attributes };
    }

    private static OnnxAttribute ReadAttribute(ProtoReader reader)
    {
        string name = "";
        var type = OnnxAttributeType.Undefined;
        float f = 0;
        long i = 0;
        byte[] s = [];
        OnnxTensor? t = null;
        OnnxGraph? g = null;
        var floats = new List<float>();
        var ints = new List<long>();
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "name");
                    name = reader.ReadString();
                    break;
                case 2:
                    reader.ExpectWireType(wire, WireType.Fixed32, "f");
                    f = reader.ReadFloat();
                    break;
                case 3:
                    reader.ExpectWireType(wire, WireType.Varint, "i");
                    i = reader.ReadInt64();
                    break;
                case 4:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "s");
                    s = reader.ReadBytes().ToArray();
                    break;
                case 5:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "t");
                    t = ReadTensor(reader.ReadMessage($"attribute '{name}' tensor"));
                    break;
                case 6:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "g");
                    g = ReadGraph(reader.ReadMessage($"attribute '{name}' GraphProto"));
                    break;
                case 7:
                    reader.ReadRepeatedFloat(wire, floats, "floats");
                    break;
                case 8:
                    reader.ReadRepeatedInt64(wire, ints, "ints");
                    break;
                case 20:
                    reader.ExpectWireType(wire, WireType.Varint, "type");
                    type = (OnnxAttributeType)reader.ReadInt32();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        return new OnnxAttribute { Name = name, Type = type, F = f, I = i, S = s, T = t, G = g, Floats = floats, Ints = ints };
    }

    private static OnnxTensor ReadTensor(ProtoReader reader)
    {
        var dims = new List<long>();
        int dataType = 0;
        string name = "";
        ReadOnlyMemory<byte>? raw = null;
        var floatData = new List<float>();
        var int32Data = new List<int>();
        var int64Data = new List<long>();
        var doubleData = new List<double>();
        bool external = false;
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1: reader.ReadRepeatedInt64(wire, dims, "dims"); break;
                case 2:
                    reader.ExpectWireType(wire, WireType.Varint, "data_type");
                    dataType = reader.ReadInt32();
                    break;
                case 4: reader.ReadRepeatedFloat(wire, floatData, "float_data"); break;
                case 5: reader.ReadRepeatedInt32(wire, int32Data, "int32_data"); break;
                case 6: throw reader.Error($"tensor '{name}' uses string_data, which is not supported");
                case 7: reader.ReadRepeatedInt64(wire, int64Data, "int64_data"); break;
                case 8:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "name");
                    name = reader.ReadString();
                    break;
                case 9:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "raw_data");
                    raw = reader.ReadBytes();
                    break;
                case 10: reader.ReadRepeatedDouble(wire, doubleData, "double_data"); break;
                case 13:
                    reader.Skip(wire);
                    external = true;
                    break;
                case 14:
                    reader.ExpectWireType(wire, WireType.Varint, "data_location");
                    external |= reader.ReadInt32() == 1;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        string label = name.Length == 0 ? $"(unnamed, in {reader.Context})" : name;
        if (external)
        {
            throw new OnnxFormatException(
                $"Tensor '{label}' is stored as external data (a separate weights file), which this reader does not support; " +
                "re-save the model with all tensors inside the .onnx file.");
        }
        var type = (OnnxDataType)dataType;
        if (OnnxDataTypes.ElementSize(type) is null)
        {
            throw new OnnxFormatException($"Tensor '{label}' has unsupported data type {dataType} ({type}).");
        }
        long count = OnnxTensor.CountElements(label, dims);
        ReadOnlyMemory<byte> payload = raw ?? TypedPayload(label, type, count, floatData, int32Data, int64Data, doubleData);
        return new OnnxTensor(name, type, dims.ToArray(), payload);
    }

    /// <summary>Converts the typed repeated fields to little-endian bytes, checking the count.</summary>
    private static byte[] TypedPayload(
        string name, OnnxDataType type, long count,
        List<float> floatData, List<int> int32Data, List<long> int64Data, List<double> doubleData)
    {
        (int found, byte[] bytes) = type switch
        {
            OnnxDataType.Float => (floatData.Count, MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(floatData)).ToArray()),
            OnnxDataType.Int32 => (int32Data.Count, MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(int32Data)).ToArray()),
            OnnxDataType.Int64 => (int64Data.Count, MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(int64Data)).ToArray()),
            OnnxDataType.Double => (doubleData.Count, MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(doubleData)).ToArray()),
            OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Bool =>
                (int32Data.Count, int32Data.Select(v => unchecked((byte)v)).ToArray()),
            OnnxDataType.Int16 or OnnxDataType.UInt16 or OnnxDataType.Float16 or OnnxDataType.BFloat16 =>
                (int32Data.Count, MemoryMarshal.AsBytes(int32Data.Select(v => unchecked((ushort)v)).ToArray().AsSpan()).ToArray()),
            _ => throw new OnnxFormatException($"Tensor '{name}': {type} without raw_data is not supported."),
        };
        if (found != count)
        {
            throw new OnnxFormatException($"Tensor '{name}': holds {found} {type} values in its typed field, expected {count} from its dims.");
        }
        return bytes;
    }

    private static OnnxValueInfo ReadValueInfo(ProtoReader reader)
    {
        string name = "";
        var elemType = OnnxDataType.Undefined;
        List<OnnxDim>? shape = null;
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "name");
                    name = reader.ReadString();
                    break;
                case 2:
                    reader.ExpectWireType(wire, WireType.LengthDelimited, "type");
                    (elemType, shape) = ReadTypeProto(reader.ReadMessage($"TypeProto of '{name}'"));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        return new OnnxValueInfo { Name = name, ElemType = elemType, Shape = shape };
    }

    /// <summary>Reads TypeProto.tensor_type (field 1); other kinds (sequence, map) leave the type undefined.</summary>
    private static (OnnxDataType, List<OnnxDim>?) ReadTypeProto(ProtoReader reader)
    {
        var elemType = OnnxDataType.Undefined;
        List<OnnxDim>? shape = null;
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            if (field != 1 || wire != WireType.LengthDelimited)
            {
                reader.Skip(wire);
                continue;
            }
            ProtoReader tensorType = reader.ReadMessage("TypeProto.Tensor");
            while (tensorType.TryReadTag(out int tf, out WireType tw))
            {
                if (tf == 1)
                {
                    tensorType.ExpectWireType(tw, WireType.Varint, "elem_type");
                    elemType = (OnnxDataType)tensorType.ReadInt32();
                }
                else if (tf == 2)
                {
                    tensorType.ExpectWireType(tw, WireType.LengthDelimited, "shape");
                    shape = ReadShape(tensorType.ReadMessage("TensorShapeProto"));
                }
                else
                {
                    tensorType.Skip(tw);
                }
            }
        }
        return (elemType, shape);
    }

    private static List<OnnxDim> ReadShape(ProtoReader reader)
    {
        var dims = new List<OnnxDim>();
        while (reader.TryReadTag(out int field, out WireType wire))
        {
            if (field != 1)
            {
                reader.Skip(wire);
                continue;
            }
            reader.ExpectWireType(wire, WireType.LengthDelimited, "dim");
            ProtoReader dimReader = reader.ReadMessage($"dim #{dims.Count}");
            OnnxDim dim = OnnxDim.Unknown;
            while (dimReader.TryReadTag(out int df, out WireType dw))
            {
                if (df == 1)
                {
                    dimReader.ExpectWireType(dw, WireType.Varint, "dim_value");
                    long value = dimReader.ReadInt64();
                    if (value < 0)
                    {
                        throw dimReader.Error($"negative dim_value {value}");
                    }
                    dim = OnnxDim.Fixed(value);
                }
                else if (df == 2)
                {
                    dimReader.ExpectWireType(dw, WireType.LengthDelimited, "dim_param");
                    dim = OnnxDim.Symbolic(dimReader.ReadString());
                }
                else
                {
                    dimReader.Skip(dw);
                }
            }
            dims.Add(dim);
        }
        return dims;
    }
}
