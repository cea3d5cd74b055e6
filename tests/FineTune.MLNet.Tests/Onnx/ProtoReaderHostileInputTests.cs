using FineTune.MLNet.Formats.Onnx;
using Xunit;

namespace FineTune.MLNet.Tests.Onnx;

/// <summary>Corrupt or hostile ONNX bytes must be rejected with an <see cref="OnnxFormatException"/> that says why.</summary>
public class ProtoReaderHostileInputTests
{
    [Fact]
    public void EmptyInputIsRejected()
    {
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(ReadOnlyMemory<byte>.Empty));
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void VarintOverflowIsRejected()
    {
        // ir_version (field 1, varint) followed by 10 bytes whose last one carries bits past 64.
        byte[] bytes = [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F];
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("overflows 64 bits", e.Message);
    }

    [Fact]
    public void TruncatedVarintIsRejected()
    {
        byte[] bytes = [0x08, 0x80, 0x80];
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("past the end", e.Message);
    }

    [Fact]
    public void LengthPastEndIsRejected()
    {
        // graph (field 7, length-delimited) claiming 1000 bytes with only 2 present.
        byte[] bytes = [0x08, 0x07, 0x3A, 0xE8, 0x07, 0x0A, 0x00];
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("length 1000 runs past the end", e.Message);
        Assert.Contains("ModelProto", e.Message);
    }

    [Fact]
    public void HugeLengthDoesNotWrapAround()
    {
        // Length varint 2^63: must not overflow into a negative int and slip past the bounds check.
        byte[] bytes = [0x3A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("runs past the end", e.Message);
    }

    [Fact]
    public void GroupWireTypeIsRejected()
    {
        byte[] bytes = [0x0B]; // field 1, wire type 3 (start group)
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("group", e.Message);
    }

    [Fact]
    public void ModelWithoutGraphIsRejected()
    {
        var w = new ProtoWriter();
        w.WriteInt64(1, 8);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(w.WrittenSpan.ToArray()));
        Assert.Contains("no graph", e.Message);
    }

    [Fact]
    public void NegativeDimIsRejected()
    {
        byte[] model = ModelWithInitializer(t =>
        {
            t.WriteInt64(1, -3);
            t.WriteInt64(2, (long)OnnxDataType.Float);
            t.WriteString(8, "w");
            t.WriteBytes(9, new byte[12]);
        });
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(model));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("negative dimension -3", e.Message);
    }

    [Fact]
    public void RawDataSizeMismatchIsRejected()
    {
        byte[] model = ModelWithInitializer(t =>
        {
            t.WriteInt64(1, 2);
            t.WriteInt64(1, 3);
            t.WriteInt64(2, (long)OnnxDataType.Float);
            t.WriteString(8, "w");
            t.WriteBytes(9, new byte[20]); // 2*3 floats need 24
        });
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(model));
        Assert.Contains("Tensor 'w': payload is 20 bytes, expected 24", e.Message);
    }

    [Fact]
    public void DimsWhoseProductOverflowsAreRejected()
    {
        byte[] model = ModelWithInitializer(t =>
        {
            t.WriteInt64(1, long.MaxValue / 2);
            t.WriteInt64(1, 4);
            t.WriteInt64(2, (long)OnnxDataType.Float);
            t.WriteString(8, "w");
            t.WriteBytes(9, new byte[4]);
        });
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(model));
        Assert.Contains("overflows", e.Message);
    }

    [Fact]
    public void UnsupportedDataTypeIsRejected()
    {
        byte[] model = ModelWithInitializer(t =>
        {
            t.WriteInt64(1, 1);
            t.WriteInt64(2, (long)OnnxDataType.Complex64);
            t.WriteString(8, "c");
            t.WriteBytes(9, new byte[8]);
        });
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(model));
        Assert.Contains("'c' has unsupported data type 14", e.Message);
    }

    [Fact]
    public void ExternalDataIsRejected()
    {
        byte[] model = ModelWithInitializer(t =>
        {
            t.WriteInt64(1, 4);
            t.WriteInt64(2, (long)OnnxDataType.Float);
            t.WriteString(8, "big");
            t.WriteMessage(13, kv =>
            {
                kv.WriteString(1, "location");
                kv.WriteString(2, "weights.bin");
            });
            t.WriteInt64(14, 1);
        });
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(model));
        Assert.Contains("'big' is stored as external data", e.Message);
    }

    [Fact]
    public void FloatDataCountMismatchIsRejected()
    {
        byte[] model = ModelWithInitializer(t =>
        {
            t.WriteInt64(1, 3);
            t.WriteInt64(2, (long)OnnxDataType.Float);
            t.WriteString(8, "f");
            t.WriteFloat(4, 1f);
            t.WriteFloat(4, 2f);
        });
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(model));
        Assert.Contains("holds 2 Float values in its typed field, expected 3", e.Message);
    }

    [Fact]
    public void WrongWireTypeForKnownFieldIsRejected()
    {
        var w = new ProtoWriter();
        w.WriteFloat(1, 1f); // ir_version must be a varint
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(w.WrittenSpan.ToArray()));
        Assert.Contains("'ir_version' has wire type 5, expected 0", e.Message);
    }

    [Fact]
    public void DeepNestingIsRejected()
    {
        // A graph whose node attribute holds a graph whose node attribute holds a graph ... 40 levels deep.
        var inner = new OnnxGraph();
        for (int i = 0; i < 40; i++)
        {
            var outer = new OnnxGraph();
            outer.Nodes.Add(new OnnxNode { OpType = "If", Attributes = { new OnnxAttribute { Name = "then_branch", Type = OnnxAttributeType.Graph, G = inner } } });
            inner = outer;
        }
        byte[] bytes = OnnxModelWriter.ToBytes(new OnnxModel { Graph = inner, OpsetImports = { new("", 13) } });
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("nested deeper than", e.Message);
    }

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
        var reader = new ProtoReader(bytes, "ModelProto");
        var ends = new HashSet<int>();
        while (reader.TryReadTag(out _, out var wireType))
        {
            reader.Skip(wireType);
            if (reader.Position < bytes.Length) ends.Add(reader.Position);
        }

        Assert.True(ends.Count >= 2, $"the test model has {ends.Count + 1} top-level fields; expected several");
        return ends;
    }

    [Fact]
    public void PackedAndUnpackedDimsReadTheSame()
    {
        byte[] unpacked = ModelWithInitializer(t =>
        {
            t.WriteInt64(1, 2);
            t.WriteInt64(1, 3);
            t.WriteInt64(2, (long)OnnxDataType.Int64);
            t.WriteString(8, "x");
            for (long v = 0; v < 6; v++)
            {
                t.WriteInt64(7, v * 10);
            }
        });
        byte[] packed = ModelWithInitializer(t =>
        {
            t.WriteMessage(1, p => { p.WriteVarint(2); p.WriteVarint(3); });
            t.WriteInt64(2, (long)OnnxDataType.Int64);
            t.WriteString(8, "x");
            t.WriteMessage(7, p =>
            {
                for (ulong v = 0; v < 6; v++)
                {
                    p.WriteVarint(v * 10);
                }
            });
        });
        foreach (byte[] bytes in new[] { unpacked, packed })
        {
            OnnxTensor x = OnnxModelReader.Read(bytes).Graph.Initializers.Single();
            Assert.Equal([2L, 3L], x.Dims);
            Assert.Equal([0L, 10, 20, 30, 40, 50], x.ToInt64Array());
        }
    }

    /// <summary>A valid ModelProto (ir 8, opset 13) whose graph holds one initializer written by <paramref name="writeTensor"/>.</summary>
    private static byte[] ModelWithInitializer(Action<ProtoWriter> writeTensor)
    {
        var w = new ProtoWriter();
        w.WriteInt64(1, 8);
        w.WriteMessage(7, g =>
        {
            g.WriteString(2, "g");
            g.WriteMessage(5, writeTensor);
        });
        w.WriteMessage(8, o => o.WriteInt64(2, 13));
        return w.WrittenSpan.ToArray();
    }
}
