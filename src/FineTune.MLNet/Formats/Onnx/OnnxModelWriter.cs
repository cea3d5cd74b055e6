namespace FineTune.MLNet.Formats.Onnx;

/// <summary>
/// Serializes an <see cref="OnnxModel"/> to ONNX protobuf bytes: the same subset <see cref="OnnxModelReader"/>
/// reads (ir_version, producer, opset_import, graph with nodes, attributes, initializers, inputs and outputs
/// with tensor types and fixed or symbolic dims). Tensors are written as raw_data. Field numbers follow
/// onnx/onnx.proto. Models over 2 GB (the protobuf limit) are rejected: external data is not supported.
/// </summary>
public static class OnnxModelWriter
{
    public static byte[] ToBytes(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var writer = new ProtoWriter();
        writer.WriteInt64(1, model.IrVersion);
        writer.WriteStringIfSet(2, model.ProducerName);
        writer.WriteStringIfSet(3, model.ProducerVersion);
        writer.WriteMessage(7, w => WriteGraph(w, model.Graph));
        foreach (OnnxOpsetImport opset in model.OpsetImports)
        {
            writer.WriteMessage(8, w =>
            {
                w.WriteStringIfSet(1, opset.Domain);
                w.WriteInt64(2, opset.Version);
            });
        }
        return writer.WrittenSpan.ToArray();
    }

    public static void Write(OnnxModel model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes(model));
    }

    public static void Write(OnnxModel model, string path) => File.WriteAllBytes(path, ToBytes(model));

    private static void WriteGraph(ProtoWriter writer, OnnxGraph graph)
    {
        long payloadBytes = graph.Initializers.Sum(t => (long)t.RawData.Length);
        if (payloadBytes > int.MaxValue)
        {
            throw new NotSupportedException(
                $"Graph '{graph.Name}' has {payloadBytes} bytes of initializers; ONNX protobuf files are limited to 2 GB and external data is not supported.");
        }
        foreach (OnnxNode node in graph.Nodes)
        {
            writer.WriteMessage(1, w => WriteNode(w, node));
        }
        writer.WriteStringIfSet(2, graph.Name);
        foreach (OnnxTensor tensor in graph.Initializers)
        {
            writer.WriteMessage(5, w => WriteTensor(w, tensor));
        }
        foreach (OnnxValueInfo input in graph.Inputs)
        {
            writer.WriteMessage(11, w => WriteValueInfo(w, input));
        }
        foreach (OnnxValueInfo output in graph.Outputs)
        {
            writer.WriteMessage(12, w => WriteValueInfo(w, output));
        }
    }

    private static void WriteNode(ProtoWriter writer, OnnxNode node)
    {
        foreach (string input in node.Inputs)
        {
            writer.WriteString(1, input);
        }
        foreach (string output in node.Outputs)
        {
            writer.WriteString(2, output);
        }
        writer.WriteStringIfSet(3, node.Name);
        writer.WriteString(4, node.OpType);
        foreach (OnnxAttribute attribute in node.Attributes)
        {
            writer.WriteMessage(5, w => WriteAttribute(w, attribute));
        }
        writer.WriteStringIfSet(7, node.Domain);
    }

    private static void WriteAttribute(ProtoWriter writer, OnnxAttribute attribute)
    {
        writer.WriteString(1, attribute.Name);
        switch (attribute.Type)
        {
            case OnnxAttributeType.Float: writer.WriteFloat(2, attribute.F); break;
            case OnnxAttributeType.Int: writer.WriteInt64(3, attribute.I); break;
            case OnnxAttributeType.String: writer.WriteBytes(4, attribute.S); break;
            case OnnxAttributeType.Tensor:
                OnnxTensor tensor = attribute.T
                    ?? throw new ArgumentException($"Attribute '{attribute.Name}' has type Tensor but no T value.");
                writer.WriteMessage(5, w => WriteTensor(w, tensor));
                break;
            case OnnxAttributeType.Graph:
                OnnxGraph graph = attribute.G
                    ?? throw new ArgumentException($"Attribute '{attribute.Name}' has type Graph but no G value.");
                writer.WriteMessage(6, w => WriteGraph(w, graph));
                break;
            case OnnxAttributeType.Floats:
                foreach (float f in attribute.Floats)
                {
                    writer.WriteFloat(7, f);
                }
                break;
            case OnnxAttributeType.Ints:
                foreach (long i in attribute.Ints)
                {
                    writer.WriteInt64(8, i);
                }
                break;
            default:
                throw new NotSupportedException($"Attribute '{attribute.Name}': writing type {attribute.Type} is not supported.");
        }
        writer.WriteInt64(20, (long)attribute.Type);
    }

    private static void WriteTensor(ProtoWriter writer, OnnxTensor tensor)
    {
        foreach (long d in tensor.Dims)
        {
            writer.WriteInt64(1, d);
        }
        writer.WriteInt64(2, (long)tensor.DataType);
        writer.WriteStringIfSet(8, tensor.Name);
        writer.WriteBytes(9, tensor.RawData.Span);
    }

    private static void WriteValueInfo(ProtoWriter writer, OnnxValueInfo info)
    {
        writer.WriteString(1, info.Name);
        writer.WriteMessage(2, type => type.WriteMessage(1, tensorType =>
        {
            tensorType.WriteInt64(1, (long)info.ElemType);
            if (info.Shape is { } shape)
            {
                tensorType.WriteMessage(2, shapeWriter =>
                {
                    foreach (OnnxDim dim in shape)
                    {
                        shapeWriter.WriteMessage(1, d =>
                        {
                            if (dim.Value is long value)
                            {
                                d.WriteInt64(1, value);
                            }
                            else if (dim.Param is string param)
                            {
                                d.WriteString(2, param);
                            }
                        });
                    }
                });
            }
        }));
    }
}
