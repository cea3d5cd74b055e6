using FineTune.MLNet.Formats.Gguf;
using Xunit;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary>
/// Hostile or broken GGUF headers are refused with a <see cref="GgufFormatException"/> that names the file and the
/// field, before anything is allocated for the bogus count/length (the huge counts below would need exabytes).
/// </summary>
public sealed class GgufHostileHeaderTests
{
    private const string Name = "hostile.gguf";

    private static GgufBytes OneTensor(ulong[] dims, uint type = 0, ulong offset = 0) =>
        new GgufBytes().Header(1, 1).KvU32("general.alignment", 32).Tensor("w", dims, type, offset);

    public static TheoryData<string, byte[], string> Cases() => new()
    {
        { "bad magic", [.. "GGML"u8, 3, 0, 0, 0], "magic" },
        { "version 4", new GgufBytes().Header(0, 0, version: 4).ToArray(), "version" },
        { "big-endian", new GgufBytes().Header(0, 0, version: 0x03000000).ToArray(), "version" },
        { "huge tensor count", new GgufBytes().Header(ulong.MaxValue, 0).ToArray(), "tensor_count" },
        { "huge kv count", new GgufBytes().Header(0, 1UL << 60).ToArray(), "metadata_kv_count" },
        { "huge key length", new GgufBytes().Header(0, 1).U64(ulong.MaxValue).Raw(new byte[16]).ToArray(), "metadata[0].key.length" },
        { "string beyond end", new GgufBytes().Header(0, 1).Str("k").U32(8).U64(1000).Raw(new byte[20]).ToArray(), "metadata[\"k\"].length" },
        { "huge array count", new GgufBytes().Header(0, 1).Str("a").U32(9).U32(6).U64(1UL << 62).Raw(new byte[16]).ToArray(), "metadata[\"a\"].count" },
        { "array of arrays", new GgufBytes().Header(0, 1).Str("a").U32(9).U32(9).U64(1).Raw(new byte[16]).ToArray(), "metadata[\"a\"].element_type" },
        { "unknown value type", new GgufBytes().Header(0, 1).Str("k").U32(13).U32(0).ToArray(), "metadata[\"k\"].type" },
        { "bool not 0/1", new GgufBytes().Header(0, 1).Str("k").U32(7).Raw(2).ToArray(), "metadata[\"k\"]" },
        { "invalid UTF-8 key", new GgufBytes().Header(0, 1).U64(2).Raw(0xC3, 0x28).U32(4).U32(0).ToArray(), "metadata[0].key" },
        { "duplicate key", new GgufBytes().Header(0, 2).KvU32("k", 1).KvU32("k", 2).ToArray(), "metadata[\"k\"]" },
        { "alignment zero", new GgufBytes().Header(0, 1).KvU32("general.alignment", 0).ToArray(), "general.alignment" },
        { "alignment not a power of two", new GgufBytes().Header(0, 1).KvU32("general.alignment", 48).ToArray(), "general.alignment" },
        { "alignment wrong type", new GgufBytes().Header(0, 1).Str("general.alignment").U32(6).U32(0x42000000).ToArray(), "general.alignment" },
        { "five dims", OneTensor([1, 1, 1, 1, 1]).Data(4).ToArray(), "n_dimensions" },
        { "zero dim", OneTensor([0]).Data(4).ToArray(), "dimensions[0]" },
        { "dims product overflows", OneTensor([1UL << 32, 1UL << 32]).Data(4).ToArray(), "dimensions" },
        { "byte size overflows", OneTensor([1UL << 31, 1UL << 31, 2]).Data(4).ToArray(), "dimensions" },
        { "unknown ggml type", OneTensor([4], type: 99).Data(16).ToArray(), ".type" },
        { "row not a whole block", OneTensor([33], type: 8).Data(64).ToArray(), "dimensions[0]" },
        { "offset not aligned", OneTensor([4], offset: 4).Data(64).ToArray(), ".offset" },
        { "offset beyond the file", OneTensor([4], offset: 1UL << 40).Data(16).ToArray(), "tensor 'w'" },
        { "data past the end", OneTensor([1024]).Data(16).ToArray(), "tensor 'w'" },
        { "duplicate tensor", new GgufBytes().Header(2, 0).Tensor("w", [4], 0, 0).Tensor("w", [4], 0, 32).Data(64).ToArray(), "tensors[1].name" },
        { "overlapping tensors", new GgufBytes().Header(2, 0).Tensor("a", [16], 0, 0).Tensor("b", [16], 0, 32).Data(96).ToArray(), "tensor 'b'" },
        { "truncated in a tensor info", new GgufBytes().Header(1, 0).Str("w").U32(1).ToArray(), "tensor_count" },
        { "truncated in a dimension", new GgufBytes().Header(1, 0).Str("w").U32(2).U64(4).Raw(new byte[20]).ToArray(), "dimensions[1]" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hostile_header_is_refused_naming_the_file_and_field(string what, byte[] bytes, string field)
    {
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Read(bytes, Name));
        Assert.Contains(field, e.Field);
        Assert.Contains(Name, e.Message);
        Assert.False(string.IsNullOrWhiteSpace(what));
    }

    [Fact]
    public void A_valid_hand_made_file_reads()
    {
        var file = GgufFile.Read(OneTensor([4]).Data(16).ToArray(), Name);
        Assert.Equal(32, file.Alignment);
        Assert.Equal(new float[4], file.ReadTensorAsFloat32(file.Tensors[0]));
    }

    /// <summary>Random byte changes to a real fixture's header: the reader either succeeds or throws GgufFormatException, nothing else.</summary>
    [Fact]
    public void Corrupted_fixture_headers_throw_only_GgufFormatException()
    {
        var original = File.ReadAllBytes(GgufFixtures.File(GgufFixtures.TinyLlama));
        var header = GgufFile.Read(original, "tiny");
        int headerBytes = (int)header.DataOffset;
        var random = new Random(1234);
        int refused = 0, read = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            var bytes = (byte[])original.Clone();
            for (int k = random.Next(1, 4); k > 0; k--) bytes[random.Next(headerBytes)] = (byte)random.Next(256);
            if (random.Next(4) == 0) bytes = bytes[..random.Next(bytes.Length)];
            try
            {
                GgufFile.Read(bytes, "fuzzed");
                read++;
            }
            catch (GgufFormatException)
            {
                refused++;
            }
        }
        Assert.Equal(300, refused + read);
        Assert.True(refused > 30, $"only {refused} of 300 corruptions were refused");
    }
}
