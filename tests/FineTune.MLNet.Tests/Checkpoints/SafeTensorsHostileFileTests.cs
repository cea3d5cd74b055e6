using System.Text;
using FineTune.MLNet.Formats.SafeTensors;
using Xunit;

namespace FineTune.MLNet.Tests.Checkpoints;

/// <summary>Corrupt or hostile files must be rejected before any tensor is allocated, naming the file and the problem.</summary>
public class SafeTensorsHostileFileTests
{
    private const string F32x2 = "\"dtype\":\"F32\",\"shape\":[2]";

    public static TheoryData<string, string, int, string> BadHeaders => new()
    {
        // name, header JSON, data bytes, expected fragment of the message
        { "not-json", "{\"a\": ", 0, "not valid JSON" },
        { "not-object", "[1, 2]", 0, "starting with '{'" },
        { "unknown-dtype", "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype 'F33'" },
        { "u16-dtype", "{\"a\":{\"dtype\":\"U16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "dtype 'U16' is not supported" },
        { "missing-dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'dtype' is missing" },
        { "negative-dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2,-1],\"data_offsets\":[0,8]}}", 8, "negative dimension" },
        { "fractional-dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "not an integer" },
        { "overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "overflows the element count" },
        { "overflow-bytes", "{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", 8, "overflows the element count" },
        { "size-mismatch", $"{{\"a\":{{{F32x2},\"data_offsets\":[0,12]}}}}", 12, "span 12 bytes, but F32 with shape [2] needs 8 bytes" },
        { "out-of-range", $"{{\"a\":{{{F32x2},\"data_offsets\":[8,16]}}}}", 8, "out of range: the data buffer is 8 bytes" },
        { "begin-after-end", $"{{\"a\":{{{F32x2},\"data_offsets\":[8,0]}}}}", 8, "0 <= begin <= end" },
        { "three-offsets", $"{{\"a\":{{{F32x2},\"data_offsets\":[0,8,8]}}}}", 8, "must have 2 entries" },
        { "overlap", $"{{\"a\":{{{F32x2},\"data_offsets\":[0,8]}},\"b\":{{{F32x2},\"data_offsets\":[4,12]}}}}", 12, "overlaps tensor 'a'" },
        { "gap", $"{{\"a\":{{{F32x2},\"data_offsets\":[0,8]}},\"b\":{{{F32x2},\"data_offsets\":[12,20]}}}}", 20, "bytes [8, 12) of the data buffer are not covered" },
        { "leading-gap", $"{{\"a\":{{{F32x2},\"data_offsets\":[4,12]}}}}", 12, "bytes [0, 4) of the data buffer are not covered" },
        { "trailing-bytes", $"{{\"a\":{{{F32x2},\"data_offsets\":[0,8]}}}}", 13, "5 trailing bytes are not covered" },
        { "duplicate-key", $"{{\"a\":{{{F32x2},\"data_offsets\":[0,8]}},\"a\":{{{F32x2},\"data_offsets\":[0,8]}}}}", 8, "the key 'a' twice" },
        { "metadata-not-string", "{\"__metadata__\":{\"format\":1}}", 0, "entry 'format' must be a string" },
        { "metadata-not-object", "{\"__metadata__\":[\"pt\"]}", 0, "'__metadata__' must be a JSON object" },
        { "entry-not-object", "{\"a\":5}", 0, "entry must be a JSON object" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void RejectsBadHeader(string name, string header, int dataBytes, string expected)
    {
        using var dir = new TempDir();
        var path = dir.File(name + ".safetensors");
        CheckpointTestFiles.WriteRaw(path, header, dataBytes);
        AssertRejected(path, expected);
    }

    [Fact]
    public void RejectsHeaderLengthLargerThanTheFile()
    {
        using var dir = new TempDir();
        var path = dir.File("long.safetensors");
        CheckpointTestFiles.WriteRaw(path, "{}", 0, declaredLength: 4096);
        AssertRejected(path, "header length 4096 bytes is larger than the 2 bytes");
    }

    [Fact]
    public void RejectsAbsurdHeaderLengthBeforeAllocating()
    {
        using var dir = new TempDir();
        var path = dir.File("absurd.safetensors");
        CheckpointTestFiles.WriteRaw(path, "{}", 0, declaredLength: ulong.MaxValue);
        AssertRejected(path, "exceeds the 100000000-byte limit");
    }

    [Fact]
    public void RejectsFileShorterThanTheLengthPrefix()
    {
        using var dir = new TempDir();
        var path = dir.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        AssertRejected(path, "shorter than the 8-byte header length prefix");
    }

    [Fact]
    public void RejectsHeaderThatIsNotUtf8()
    {
        using var dir = new TempDir();
        var path = dir.File("latin1.safetensors");
        var header = Encoding.Latin1.GetBytes("{\"caf\u00e9\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}");
        CheckpointTestFiles.WriteRaw(path, header, []);
        AssertRejected(path, "not valid UTF-8");
    }

    [Fact]
    public void AcceptsZeroSizedTensorsSharingAnOffsetAndUtf8Names()
    {
        using var dir = new TempDir();
        var path = dir.File("ok.safetensors");
        var header = $"{{\"caf\u00e9\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}},\"b\":{{{F32x2},\"data_offsets\":[0,8]}},\"c\":{{\"dtype\":\"I8\",\"shape\":[0,3],\"data_offsets\":[8,8]}}}}    ";
        CheckpointTestFiles.WriteRaw(path, header, 8);
        var tensors = SafeTensorsFile.Load(path);
        Assert.Equal(["b", "c", "caf\u00e9"], tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([0L, 3L], tensors["c"].shape);
    }

    private static void AssertRejected(string path, string expected)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Equal(path, e.FilePath);
        // The header-only entry point applies the same validation.
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.ReadHeader(path));
    }
}
