using System.Text.Json;
using FineTune.MLNet.Formats.Gguf;
using Xunit;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary>The reader against gguf-py's files (tensor_types.json), and the writer against the reader.</summary>
public sealed class GgufReaderWriterTests
{
    [Fact]
    public void Reader_sees_the_names_types_and_shapes_gguf_py_wrote()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(GgufFixtures.Dir, "tensor_types.json")));
        int compared = 0;
        foreach (var name in GgufFixtures.All)
        {
            var file = GgufFile.Read(GgufFixtures.File(name));
            Assert.Equal(3, file.Version);
            Assert.Equal("llama", file.GetString("general.architecture"));
            var expected = doc.RootElement.GetProperty(name).EnumerateArray().ToList();
            Assert.Equal(expected.Count, file.Tensors.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                var t = file.Tensors[i];
                Assert.Equal(expected[i][0].GetString(), t.Name);
                Assert.Equal(expected[i][1].GetString(), t.Type.ToString());
                Assert.Equal(expected[i][2].EnumerateArray().Select(d => d.GetInt64()), t.Dimensions);
                compared++;
            }
        }
        Assert.Equal(48 * 4 + 21, compared);
    }

    /// <summary>Read then write with the same metadata and tensors: the bytes of gguf-py's files come back exactly.</summary>
    [Theory]
    [InlineData("stories260K-q4_0.gguf")]
    [InlineData("tiny-llama-f32.gguf")]
    public void Writing_back_a_read_file_is_byte_identical(string name)
    {
        var path = GgufFixtures.File(name);
        var file = GgufFile.Read(path);
        var tensors = file.Tensors.Select(t => new GgufTensorData(t.Name, t.Dimensions, t.Type, () => file.ReadTensorBytes(t))).ToList();
        using var stream = new MemoryStream();
        GgufWriter.Write(stream, file.Metadata, tensors);
        Assert.Equal(File.ReadAllBytes(path), stream.ToArray());
    }

    [Fact]
    public void Every_value_type_and_a_custom_alignment_round_trip()
    {
        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new("general.alignment", GgufValue.UInt32(64)),
            new("u8", GgufValue.Scalar(GgufValueType.UInt8, (byte)200)),
            new("i8", GgufValue.Scalar(GgufValueType.Int8, (sbyte)-5)),
            new("u16", GgufValue.Scalar(GgufValueType.UInt16, (ushort)60000)),
            new("i16", GgufValue.Scalar(GgufValueType.Int16, (short)-30000)),
            new("i32", GgufValue.Int32(-7)),
            new("f32", GgufValue.Float32(1.5f)),
            new("bool", GgufValue.Bool(true)),
            new("str", GgufValue.String("héllo ▁")),
            new("u64", GgufValue.UInt64(ulong.MaxValue)),
            new("i64", GgufValue.Scalar(GgufValueType.Int64, long.MinValue)),
            new("f64", GgufValue.Scalar(GgufValueType.Float64, Math.PI)),
            new("strs", GgufValue.Strings(["a", "", "ü"])),
            new("i16s", GgufValue.Array(GgufValueType.Int16, new short[] { 1, -2 })),
            new("empty", GgufValue.Floats([])),
        };
        var values = Enumerable.Range(0, 64).Select(i => (i - 32) / 4f).ToArray();
        var tensors = new List<GgufTensorData>
        {
            GgufTensorData.FromBytes("a", [64], GgmlType.F32, GgmlBlocks.Encode(GgmlType.F32, values)),
            GgufTensorData.FromBytes("b", [32, 2], GgmlType.BF16, GgmlBlocks.Encode(GgmlType.BF16, values)),
            GgufTensorData.FromBytes("c", [64], GgmlType.F16, GgmlBlocks.Encode(GgmlType.F16, values)),
        };
        using var stream = new MemoryStream();
        GgufWriter.Write(stream, metadata, tensors);
        var file = GgufFile.Read(stream.ToArray());
        Assert.Equal(64, file.Alignment);
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % 64));
        Assert.Equal(metadata.Count, file.Metadata.Count);
        for (int i = 0; i < metadata.Count; i++)
        {
            Assert.Equal(metadata[i].Key, file.Metadata[i].Key);
            Assert.Equal(metadata[i].Value.Type, file.Metadata[i].Value.Type);
            Assert.Equal(metadata[i].Value.ElementType, file.Metadata[i].Value.ElementType);
            Assert.Equal(metadata[i].Value.Value, file.Metadata[i].Value.Value);
        }
        Assert.Equal(values, file.ReadTensorAsFloat32(file.Tensors[0]));
        Assert.Equal(values, file.ReadTensorAsFloat32(file.Tensors[1]));   // these values are exact in bf16 and f16
        Assert.Equal(values, file.ReadTensorAsFloat32(file.Tensors[2]));
        Assert.Equal([32L, 2L], file.Tensors[1].Dimensions);
    }

    [Fact]
    public void Typed_getters_name_the_key_on_a_type_mismatch()
    {
        var file = GgufFile.Read(GgufFixtures.File(GgufFixtures.TinyLlama));
        Assert.Equal(4, file.GetInteger("llama.attention.head_count"));
        var e = Assert.Throws<GgufFormatException>(() => file.GetString("llama.block_count"));
        Assert.Contains("llama.block_count", e.Message);
        Assert.Null(file.GetString("no.such.key"));
    }
}
