using System.Buffers.Binary;
using FineTune.MLNet.Formats.Llama2c;
using FineTune.MLNet.Import.Llama2c;
using FineTune.MLNet.Tests.Checkpoints;
using Xunit;

namespace FineTune.MLNet.Tests.Llama2c;

/// <summary>
/// Malformed llama2.c checkpoints and tokenizers fail with a <see cref="Llama2cFormatException"/> that names the file,
/// the field and what was expected, before any tensor is allocated (a header claiming terabytes fails on the size check).
/// </summary>
public sealed class Llama2cBadInputTests
{
    private static readonly Llama2cHeader Tiny = new(0, 8, 16, 1, 2, 1, 300, 4, SharedClassifier: true);

    private static string WriteTiny(TempDir dir, Llama2cHeader header, string name = "tiny.bin")
    {
        var tensors = Llama2cLayout.Weights(header).ToDictionary(s => s.Name, s => Enumerable.Range(0, (int)s.Count).Select(i => (i % 7) * 0.01f).ToArray());
        var path = dir.File(name);
        Llama2cCheckpointWriter.Write(path, header, tensors);
        return path;
    }

    private static Llama2cFormatException Fails(string path, string field, params string[] parts)
    {
        var e = Assert.Throws<Llama2cFormatException>(() => Llama2cCheckpoint.Read(path));
        Assert.Equal(field, e.Field);
        Assert.Contains(path, e.Message);
        foreach (var part in parts) Assert.Contains(part, e.Message);
        return e;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Tiny_files_of_each_version_round_trip(int version)
    {
        using var dir = new TempDir();
        var header = Tiny with { Version = version, GroupSize = version == 2 ? 8 : 0 };
        var checkpoint = Llama2cCheckpoint.Read(WriteTiny(dir, header));
        Assert.Equal(header, checkpoint.Header);
        Assert.Equal(Llama2cLayout.Weights(header).Select(s => s.Name).Order(), checkpoint.Tensors.Keys.Order());
    }

    [Fact]
    public void Unknown_version_after_the_magic_is_refused()
    {
        using var dir = new TempDir();
        var path = WriteTiny(dir, Tiny with { Version = 1 });
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 3);
        File.WriteAllBytes(path, bytes);
        Fails(path, "version", "3; expected 1 (fp32) or 2 (Q8_0)");
    }

    [Fact]
    public void A_file_of_another_format_is_refused_by_its_magic()
    {
        using var dir = new TempDir();
        var path = dir.File("model.gguf");
        File.WriteAllBytes(path, [.. "GGUF"u8, .. new byte[100]]);
        Fails(path, "magic", "'ak42'");
    }

    [Fact]
    public void Truncated_and_trailing_bytes_are_refused_with_the_sizes()
    {
        using var dir = new TempDir();
        var path = WriteTiny(dir, Tiny);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        Fails(path, "file size", "truncated", $"describes {bytes.Length} bytes", $"the file has {bytes.Length - 10}");
        File.WriteAllBytes(path, [.. bytes, 0, 0, 0, 0]);
        Fails(path, "file size", "4 trailing bytes");
        File.WriteAllBytes(path, bytes[..20]);
        Fails(path, "header", "truncated", "28 (7 int32)");
    }

    [Fact]
    public void Legacy_file_with_an_untied_classifier_but_positive_vocab_gets_a_hint()
    {
        using var dir = new TempDir();
        var path = WriteTiny(dir, Tiny with { SharedClassifier = false });
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), 300);              // vocab_size +300 instead of -300
        File.WriteAllBytes(path, bytes);
        Fails(path, "file size", "trailing bytes", "negative vocab_size");
    }

    [Fact]
    public void A_header_claiming_huge_tensors_fails_on_the_size_check_before_allocating()
    {
        using var dir = new TempDir();
        var path = dir.File("huge.bin");
        var header = new byte[28];
        int[] fields = [65536, 1 << 30, 1000, 512, 512, 1 << 30, 4096];
        for (int i = 0; i < 7; i++) BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4 * i), fields[i]);
        File.WriteAllBytes(path, header);
        Fails(path, "file size", "truncated", "the file has 28");
    }

    [Theory]
    [InlineData(2, 3, "n_kv_heads", "3 does not divide n_heads 2")]
    [InlineData(3, 1, "n_heads", "3 does not divide dim 8")]
    [InlineData(0, 1, "n_heads", "0; expected > 0")]
    public void Head_counts_that_do_not_divide_are_refused(int heads, int kvHeads, string field, string message)
    {
        using var dir = new TempDir();
        var path = dir.File("heads.bin");
        var header = new byte[28];
        int[] fields = [8, 16, 1, heads, kvHeads, 300, 4];
        for (int i = 0; i < 7; i++) BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4 * i), fields[i]);
        File.WriteAllBytes(path, header);
        Fails(path, field, message);
    }

    [Fact]
    public void Group_size_that_does_not_divide_a_tensor_is_refused()
    {
        using var dir = new TempDir();
        var path = WriteTiny(dir, Tiny with { Version = 2, GroupSize = 8 });
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(37), 7);
        File.WriteAllBytes(path, bytes);
        Fails(path, "group_size", "7 does not divide");
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(37), 0);
        File.WriteAllBytes(path, bytes);
        Fails(path, "group_size", "expected a positive");
    }

    [Fact]
    public void Tokenizer_whose_size_differs_from_the_checkpoint_is_refused_naming_both()
    {
        using var dir = new TempDir();
        var small = WriteTiny(dir, Tiny with { VocabSize = 511 }, "small.bin");
        var e = Assert.Throws<Llama2cFormatException>(() => Llama2cImporter.Import(small, Llama2cFixtures.Tokenizer, dir.File("out")));
        Assert.Contains("trailing bytes after 511 tokens", e.Message);
        Assert.Contains(Llama2cFixtures.Tokenizer, e.Message);
        Assert.False(Directory.Exists(dir.File("out")));                              // nothing written
        var big = WriteTiny(dir, Tiny with { VocabSize = 600 }, "big.bin");
        e = Assert.Throws<Llama2cFormatException>(() => Llama2cImporter.Import(big, Llama2cFixtures.Tokenizer, dir.File("out")));
        Assert.Contains("512 tokens, but the checkpoint's vocab_size is 600", e.Message);
    }

    [Fact]
    public void Truncated_tokenizer_names_the_token()
    {
        using var dir = new TempDir();
        var path = dir.File("tok.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(Llama2cFixtures.Tokenizer)[..^3]);
        var e = Assert.Throws<Llama2cFormatException>(() => Llama2cTokenizerFile.Read(path));
        Assert.Equal("token 511", e.Field);
        Assert.Contains(path, e.Message);
    }
}
