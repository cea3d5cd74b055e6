using FineTune.MLNet.Formats.Onnx;
using Google.Protobuf;
using Xunit;
using Proto = global::Onnx;

namespace FineTune.MLNet.Tests.Onnx;

/// <summary>
/// Corrupt or hostile ONNX bytes must be rejected with an <see cref="OnnxFormatException"/> that names the file and says
/// why. The wire format is parsed by Google.Protobuf; the ONNX checks (dims, payload sizes, types) are the library's.
/// </summary>
public class ProtoReaderHostileInputTests
{
    private const string File = "hostile.onnx";

    [Fact]
    public void EmptyInputIsRejected()
    {
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(ReadOnlyMemory<byte>.Empty, File));
        Assert.Contains($"'{File}' is empty", e.Message);
    }

    [Fact]
    public void VarintOverflowIsRejected()
    {
        // ir_version (field 1, varint) followed by 10 bytes whose last one carries bits past 64: protobuf keeps the low
        // 64 bits (-1 here), which is no valid ir_version.
        byte[] bytes = [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, .. GraphField()];
        Assert.Contains("no valid ir_version (got -1)", Refusal(bytes));
    }

    [Fact]
    public void VarintLongerThanTenBytesIsRejected()
    {
        byte[] bytes = [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        Assert.Contains("malformed varint", Refusal(bytes));
    }

    [Fact]
    public void TruncatedVarintIsRejected()
    {
        byte[] bytes = [0x08, 0x80, 0x80];
        Assert.Contains("ended unexpectedly", Refusal(bytes));
    }

    [Fact]
    public void LengthPastEndIsRejected()
    {
        // graph (field 7, length-delimited) claiming 1000 bytes with only 2 present.
        byte[] bytes = [0x08, 0x07, 0x3A, 0xE8, 0x07, 0x0A, 0x00];
        string message = Refusal(bytes);
        Assert.Contains("not a valid protobuf ModelProto", message);
        Assert.Contains("ended unexpectedly", message);
    }

    [Fact]
    public void HugeLengthIsRefusedWithoutAllocatingIt()
    {
        // raw_data of an initializer claiming 2^31 - 1 bytes in a file of a few bytes: refused before any buffer that size.
        byte[] bytes = [0x08, 0x07, 0x3A, 0x09, 0x2A, 0x07, 0x4A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00];
        long before = GC.GetAllocatedBytesForCurrentThread();
        string message = Refusal(bytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("not a valid protobuf ModelProto", message);
        Assert.True(allocated < 16 << 20, $"refusing a 2 GB length allocated {allocated} bytes");
    }

    [Fact]
    public void NegativeLengthIsRejected()
    {
        byte[] bytes = [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
        Assert.Contains("negative size", Refusal(bytes));
    }

    [Fact]
    public void GroupWireTypeIsRejected()
    {
        byte[] bytes = [0x0B]; // field 1, wire type 3 (start group) with no end group
        Assert.Contains("not a valid protobuf ModelProto", Refusal(bytes));
    }

    [Fact]
    public void InvalidUtf8IsRejected()
    {
        byte[] bytes = [0x08, 0x07, 0x12, 0x02, 0xC3, 0x28, .. GraphField()]; // producer_name = C3 28 (a broken 2-byte sequence)
        Assert.Contains("String is invalid UTF-8", Refusal(bytes));
    }

    [Fact]
    public void ModelWithoutGraphIsRejected()
    {
        Assert.Contains("no graph", Refusal(new Proto.ModelProto { IrVersion = 8 }.ToByteArray()));
    }

    [Fact]
    public void NodeWithoutOpTypeIsRejected()
    {
        var model = new Proto.ModelProto { IrVersion = 8, Graph = new Proto.GraphProto { Name = "g", Node = { new Proto.NodeProto { Name = "n" } } } };
        Assert.Contains("graph 'g' node #0 ('n') has no op_type", Refusal(model.ToByteArray()));
    }

    [Fact]
    public void NegativeShapeDimIsRejected()
    {
        var shape = new Proto.TensorShapeProto { Dim = { new Proto.TensorShapeProto.Types.Dimension { DimValue = -2 } } };
        var input = new Proto.ValueInfoProto { Name = "x", Type = new Proto.TypeProto { TensorType = new() { ElemType = 1, Shape = shape } } };
        var model = new Proto.ModelProto { IrVersion = 8, Graph = new Proto.GraphProto { Name = "g", Input = { input } } };
        Assert.Contains("Value 'x' of graph 'g' has a negative dim_value -2", Refusal(model.ToByteArray()));
    }

    [Fact]
    public void NegativeDimIsRejected()
    {
        string message = Refusal(ModelWithInitializer(new Proto.TensorProto { Dims = { -3 }, DataType = 1, Name = "w", RawData = Zeros(12) }));
        Assert.Contains("'w'", message);
        Assert.Contains("negative dimension -3", message);
    }

    [Fact]
    public void RawDataSizeMismatchIsRejected()
    {
        // 2*3 floats need 24 bytes.
        string message = Refusal(ModelWithInitializer(new Proto.TensorProto { Dims = { 2, 3 }, DataType = 1, Name = "w", RawData = Zeros(20) }));
        Assert.Contains("Tensor 'w': payload is 20 bytes, expected 24", message);
    }

    [Fact]
    public void DimsWhoseProductOverflowsAreRejected()
    {
        var tensor = new Proto.TensorProto { Dims = { long.MaxValue / 2, 4 }, DataType = 1, Name = "w", RawData = Zeros(4) };
        Assert.Contains("overflows", Refusal(ModelWithInitializer(tensor)));
    }

    [Fact]
    public void UnsupportedDataTypeIsRejected()
    {
        var tensor = new Proto.TensorProto { Dims = { 1 }, DataType = (int)OnnxDataType.Complex64, Name = "c", RawData = Zeros(8) };
        Assert.Contains("'c' has unsupported data type 14", Refusal(ModelWithInitializer(tensor)));
    }

    [Fact]
    public void ExternalDataIsRejected()
    {
        var tensor = new Proto.TensorProto
        {
            Dims = { 4 },
            DataType = 1,
            Name = "big",
            ExternalData = { new Proto.StringStringEntryProto { Key = "location", Value = "weights.bin" } },
            DataLocation = Proto.TensorProto.Types.DataLocation.External,
        };
        string message = Refusal(ModelWithInitializer(tensor)); // from bytes there is no folder to find weights.bin in
        Assert.Contains("'big' is stored as external data", message);
        Assert.Contains("read the model from its file path", message);
    }

    [Fact]
    public void StringDataIsRejected()
    {
        var tensor = new Proto.TensorProto { Dims = { 1 }, DataType = (int)OnnxDataType.String, Name = "s", StringData = { ByteString.CopyFromUtf8("a") } };
        Assert.Contains("'s' uses string_data", Refusal(ModelWithInitializer(tensor)));
    }

    [Fact]
    public void FloatDataCountMismatchIsRejected()
    {
        var tensor = new Proto.TensorProto { Dims = { 3 }, DataType = 1, Name = "f", FloatData = { 1f, 2f } };
        Assert.Contains("holds 2 Float values in its typed field, expected 3", Refusal(ModelWithInitializer(tensor)));
    }

    [Fact]
    public void WrongWireTypeForKnownFieldIsNotTakenAsThatField()
    {
        // ir_version must be a varint; protobuf keeps a float with field number 1 as an unknown field, so the model has no
        // ir_version (nor graph) and is refused.
        byte[] bytes = [.. new WireBytes().Float(1, 1f).ToArray(), .. GraphField()];
        Assert.Contains("no valid ir_version (got 0)", Refusal(bytes));
    }

    [Fact]
    public void DeepNestingIsRejected()
    {
        // A graph whose node attribute holds a graph whose node attribute holds a graph ... : each level is three
        // messages (graph, node, attribute). 30 levels (92 deep) are within the limit of 100; 40 levels (122) are refused.
        Assert.Equal(30, Depth(OnnxModelReader.Read(NestedGraphs(30), File).Graph));
        string message = Refusal(NestedGraphs(40));
        Assert.Contains("too many levels of nesting", message);
        Assert.Contains($"nesting limit {OnnxModelReader.MaxNesting}", message);
    }

    private static byte[] NestedGraphs(int levels)
    {
        var inner = new OnnxGraph();
        for (int i = 0; i < levels; i++)
        {
            var outer = new OnnxGraph();
            outer.Nodes.Add(new OnnxNode { OpType = "If", Attributes = { new OnnxAttribute { Name = "then_branch", Type = OnnxAttributeType.Graph, G = inner } } });
            inner = outer;
        }
        return OnnxModelWriter.ToBytes(new OnnxModel { Graph = inner, OpsetImports = { new("", 13) } });
    }

    private static int Depth(OnnxGraph graph) => graph.Nodes.Count == 0 ? 0 : 1 + Depth(graph.Nodes[0].Attributes[0].G!);

    [Fact]
    public void TruncatedRealisticModelIsRejectedAtEveryCut()
    {
        OnnxModel model = OnnxTestGraphs.MatMulAdd(inFeatures: 3, outFeatures: 2);
        byte[] bytes = OnnxModelWriter.ToBytes(model);
        // A protobuf prefix that ends exactly between two top-level fields is itself a well-formed (shorter) ModelProto;
        // every other cut ends inside a field. So: a cut inside a field, or before the graph is complete, must be rejected
        // with OnnxFormatException; a cut between top-level fields after the graph may parse, and then must describe
        // exactly those bytes (written back, it gives the prefix). No other outcome, and no other exception type.
        var boundaries = TopLevelFieldEnds(bytes);
        int rejected = 0, parsed = 0;
        for (int cut = 1; cut < bytes.Length; cut++)
        {
            OnnxModel prefix;
            try
            {
                prefix = OnnxModelReader.Read(bytes.AsMemory(0, cut));
            }
            catch (OnnxFormatException)
            {
                rejected++;
                continue;
            }

            parsed++;
            Assert.True(boundaries.Contains(cut), $"a cut at byte {cut} of {bytes.Length}, inside a field, parsed as a model");
            Assert.Equal(bytes.AsSpan(0, cut).ToArray(), OnnxModelWriter.ToBytes(prefix));
        }

        Assert.Equal(bytes.Length - 1, rejected + parsed);
        Assert.True(rejected >= bytes.Length - 1 - boundaries.Count, $"{rejected} of {bytes.Length - 1} cuts rejected");
        Assert.True(parsed <= boundaries.Count);
    }

    /// <summary>Byte offsets at which a top-level field of the ModelProto ends (the file's end excluded).</summary>
    private static HashSet<int> TopLevelFieldEnds(byte[] bytes)
    {
        var input = new CodedInputStream(bytes);
        var ends = new HashSet<int>();
        while (input.ReadTag() != 0)
        {
            input.SkipLastField();
            if (input.Position < bytes.Length) ends.Add((int)input.Position);
        }

        Assert.True(ends.Count >= 2, $"the test model has {ends.Count + 1} top-level fields; expected several");
        return ends;
    }

    [Fact]
    public void PackedAndUnpackedDimsReadTheSame()
    {
        byte[] unpacked = ModelWithInitializerBytes(t =>
        {
            t.Varint(1, 2).Varint(1, 3).Varint(2, (long)OnnxDataType.Int64).String(8, "x");
            for (long v = 0; v < 6; v++)
            {
                t.Varint(7, v * 10);
            }
        });
        byte[] packed = ModelWithInitializerBytes(t => t
            .Message(1, p => p.RawVarint(2).RawVarint(3))
            .Varint(2, (long)OnnxDataType.Int64)
            .String(8, "x")
            .Message(7, p =>
            {
                for (ulong v = 0; v < 6; v++)
                {
                    p.RawVarint(v * 10);
                }
            }));
        Assert.NotEqual(unpacked, packed);
        foreach (byte[] bytes in new[] { unpacked, packed })
        {
            OnnxTensor x = OnnxModelReader.Read(bytes).Graph.Initializers.Single();
            Assert.Equal([2L, 3L], x.Dims);
            Assert.Equal([0L, 10, 20, 30, 40, 50], x.ToInt64Array());
        }
    }

    /// <summary>The refusal's message; asserts it is an <see cref="OnnxFormatException"/> that names the file.</summary>
    private static string Refusal(byte[] bytes)
    {
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(bytes, File));
        Assert.Contains($"'{File}'", e.Message);
        return e.Message;
    }

    /// <summary>ModelProto field 7 (graph) holding an empty GraphProto.</summary>
    private static byte[] GraphField() => [0x3A, 0x00];

    private static ByteString Zeros(int count) => ByteString.CopyFrom(new byte[count]);

    /// <summary>A valid ModelProto (ir 8, opset 13) whose graph holds <paramref name="tensor"/> as its one initializer.</summary>
    private static byte[] ModelWithInitializer(Proto.TensorProto tensor) => new Proto.ModelProto
    {
        IrVersion = 8,
        Graph = new Proto.GraphProto { Name = "g", Initializer = { tensor } },
        OpsetImport = { new Proto.OperatorSetIdProto { Version = 13 } },
    }.ToByteArray();

    /// <summary>The same with the initializer's fields written one by one by <paramref name="writeTensor"/>.</summary>
    private static byte[] ModelWithInitializerBytes(Action<WireBytes> writeTensor) => new WireBytes()
        .Varint(1, 8)
        .Message(7, g => g.String(2, "g").Message(5, writeTensor))
        .Message(8, o => o.Varint(2, 13))
        .ToArray();
}
