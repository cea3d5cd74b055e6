using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.SafeTensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Checkpoints;

public class AtomicFileTests
{
    [Fact]
    public void WriteReplacesTheTargetAndLeavesNoTempFile()
    {
        using var dir = new TempDir();
        var path = dir.File("out.txt");
        File.WriteAllText(path, "old");
        AtomicFile.Write(path, s => s.Write("new content"u8));
        Assert.Equal("new content", File.ReadAllText(path));
        Assert.Equal(["out.txt"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void FailedWriteKeepsTheOldFileAndRemovesTheTempFile()
    {
        using var dir = new TempDir();
        var path = dir.File("out.txt");
        File.WriteAllText(path, "old");
        string? tempSeen = null;
        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("partial"u8);
            tempSeen = Directory.GetFiles(dir.Path).Single(f => f.EndsWith(AtomicFile.TempSuffix, StringComparison.Ordinal));
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal("boom", e.Message);
        Assert.NotNull(tempSeen);
        Assert.Equal(dir.Path, Path.GetDirectoryName(tempSeen)); // same folder, so the rename is atomic
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["out.txt"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void SafeTensorsSaveThatFailsMidwayLeavesNothingBehind()
    {
        using var dir = new TempDir();
        var path = dir.File("model.safetensors");
        var disposed = ones(3);
        disposed.Dispose();
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Save(path, new Dictionary<string, Tensor> { ["a"] = ones(2), ["b"] = disposed }));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void WriteCreatesTheParentFolder()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "a", "b", "c.bin");
        AtomicFile.Write(path, s => s.WriteByte(7));
        Assert.Equal([(byte)7], File.ReadAllBytes(path));
    }
}
