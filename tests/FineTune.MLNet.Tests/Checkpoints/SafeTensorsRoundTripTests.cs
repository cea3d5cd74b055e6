using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using FineTune.MLNet.Formats.SafeTensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Checkpoints;

public class SafeTensorsRoundTripTests
{
    private static Dictionary<string, Tensor> OneOfEachDType()
    {
        var g = new Generator(seed: 7);
        return new Dictionary<string, Tensor>
        {
            ["f32"] = randn([3, 4], generator: g),
            ["f64"] = randn([2, 5], dtype: ScalarType.Float64, generator: g),
            ["f16"] = randn([7], generator: g).to(ScalarType.Float16),
            ["bf16"] = randn([2, 3, 2], generator: g).to(ScalarType.BFloat16),
            ["i64"] = tensor(new long[] { long.MinValue, -1, 0, 1, long.MaxValue }),
            ["i32"] = tensor(new[] { int.MinValue, -3, 0, 4, int.MaxValue }).reshape(5, 1),
            ["i16"] = tensor(new short[] { short.MinValue, -2, 9, short.MaxValue }),
            ["i8"] = tensor(new sbyte[] { sbyte.MinValue, -1, 0, sbyte.MaxValue }),
            ["u8"] = tensor(new byte[] { 0, 1, 128, 255 }),
            ["bool"] = tensor(new[] { true, false, true }),
            ["scalar"] = tensor(2.5f),
            ["empty"] = zeros(0, 3),
        };
    }

    [Fact]
    public void RoundTripKeepsEveryDTypeShapeAndValue()
    {
        using var dir = new TempDir();
        var original = OneOfEachDType();
        var path = dir.File("all.safetensors");
        SafeTensorsFile.Save(path, original, new Dictionary<string, string> { ["author"] = "test" });

        var loaded = SafeTensorsFile.Load(path);
        Assert.Equal(original.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, expected) in original)
        {
            var actual = loaded[name];
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.Equal(DeviceType.CPU, actual.device_type);
            Assert.True(SameValues(expected, actual), $"values of '{name}' differ");
        }
        var metadata = SafeTensorsFile.ReadMetadata(path);
        Assert.Equal("test", metadata["author"]);
        Assert.Equal("pt", metadata["format"]);
    }

    [Fact]
    public void HeaderIsPaddedWithSpacesToEightBytesAndOrderedLikeTheReferenceWriter()
    {
        using var dir = new TempDir();
        var path = dir.File("order.safetensors");
        SafeTensorsFile.Save(path, OneOfEachDType());

        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        var text = Encoding.UTF8.GetString(bytes, 8, n);
        var json = text.TrimEnd(' ');
        Assert.True(text.Length - json.Length < 8);
        using var doc = JsonDocument.Parse(json);
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        // __metadata__ first, then descending dtype alignment (I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL), then name.
        Assert.Equal(["__metadata__", "i64", "f64", "empty", "f32", "scalar", "i32", "bf16", "f16", "i16", "i8", "u8", "bool"], keys);
        long expectedOffset = 0;
        foreach (var key in keys.Skip(1))
        {
            var offsets = doc.RootElement.GetProperty(key).GetProperty("data_offsets");
            Assert.Equal(expectedOffset, offsets[0].GetInt64());
            expectedOffset = offsets[1].GetInt64();
        }
        Assert.Equal(bytes.Length - 8 - n, expectedOffset);
    }

    [Fact]
    public void RewritingThePythonFixtureReproducesItByteForByte()
    {
        // The numpy reference writer and ours share the layout rules, so re-saving its file must give the same bytes.
        var fixture = CheckpointTestFiles.Fixture("checkpoints", "dtypes.safetensors");
        using var dir = new TempDir();
        var copy = dir.File("copy.safetensors");
        SafeTensorsFile.Save(copy, SafeTensorsFile.Load(fixture), SafeTensorsFile.ReadMetadata(fixture));
        Assert.Equal(File.ReadAllBytes(fixture), File.ReadAllBytes(copy));
    }

    [Fact]
    public void ChunkedReadAndWriteMatchSingleSpanCopies()
    {
        // Tensors over the chunk size are copied through 1-D views; use a tiny chunk to exercise that path.
        using var dir = new TempDir();
        var tensors = new Dictionary<string, Tensor>
        {
            ["a"] = arange(1000, dtype: ScalarType.Float32).reshape(10, 100),
            ["b"] = arange(77, dtype: ScalarType.Int64),
        };
        var chunked = dir.File("chunked.safetensors");
        var whole = dir.File("whole.safetensors");
        SafeTensorsFile.Save(chunked, tensors, null, chunkBytes: 24);
        SafeTensorsFile.Save(whole, tensors);
        Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(chunked));

        var loaded = SafeTensorsFile.Load(whole, chunkBytes: 40);
        Assert.True(SameValues(tensors["a"], loaded["a"]));
        Assert.True(SameValues(tensors["b"], loaded["b"]));
    }

    [Fact]
    public void SavesNonContiguousTensorsByValue()
    {
        using var dir = new TempDir();
        var path = dir.File("t.safetensors");
        var source = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        SafeTensorsFile.Save(path, new Dictionary<string, Tensor> { ["t"] = source.t() });
        var loaded = SafeTensorsFile.Load(path)["t"];
        Assert.Equal([3L, 2L], loaded.shape);
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], loaded.data<float>().ToArray());
    }

    [Fact]
    public void LoadedTensorsSurviveTheCallersDisposeScopeOnlyWhenMovedOut()
    {
        using var dir = new TempDir();
        var path = dir.File("s.safetensors");
        SafeTensorsFile.Save(path, new Dictionary<string, Tensor> { ["x"] = ones(2) });
        Dictionary<string, Tensor> loaded;
        using (var scope = NewDisposeScope())
        {
            loaded = SafeTensorsFile.Load(path);
            scope.MoveToOuter(loaded.Values);
        }
        Assert.Equal(2f, loaded["x"].sum().item<float>());
    }

    [Fact]
    public void SaveRejectsTheMetadataKeyAsATensorName()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ArgumentException>(() =>
            SafeTensorsFile.Save(dir.File("m.safetensors"), new Dictionary<string, Tensor> { ["__metadata__"] = ones(1) }));
        Assert.Contains("__metadata__", e.Message);
    }

    [Fact]
    public void LargeFileLoadsWithBulkCopies()
    {
        // 64 MiB: an element-by-element copy would take tens of seconds; a bulk read takes well under one.
        using var dir = new TempDir();
        var path = dir.File("big.safetensors");
        var big = new Dictionary<string, Tensor> { ["w"] = rand(4096, 4096), ["v"] = rand(16) };
        SafeTensorsFile.Save(path, big);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var loaded = SafeTensorsFile.Load(path);
        watch.Stop();
        Assert.True(SameValues(big["w"], loaded["w"]));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"loading 64 MiB took {watch.Elapsed}");
    }

    internal static bool SameValues(Tensor expected, Tensor actual) =>
        expected.shape.SequenceEqual(actual.shape) && expected.eq(actual).all().item<bool>();
}
