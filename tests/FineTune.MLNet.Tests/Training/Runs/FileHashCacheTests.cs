using System.Security.Cryptography;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Training.Runs;
using Xunit;

namespace FineTune.MLNet.Tests.Training.Runs;

/// <summary>
/// config.json's model fingerprint hashes weights once per (path, size, modification time): a second run reads the hash
/// from the cache file (also from another process: a new instance on the same file), and a changed file is hashed again.
/// </summary>
public sealed class FileHashCacheTests
{
    private static string Direct(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void AnUnchangedFileIsHashedOnceAndAChangedOneAgain()
    {
        using var dir = new TempDir("hash-cache");
        var weights = dir.File("model.safetensors");
        var bytes = new byte[1 << 20];
        new Random(7).NextBytes(bytes);
        File.WriteAllBytes(weights, bytes);
        var cacheFile = dir.File("cache/file-sha256.json");

        var first = new FileHashCache(cacheFile);
        Assert.Equal(Direct(weights), first.Sha256(weights));
        Assert.Equal(1, first.FilesHashed);
        Assert.Equal(Direct(weights), first.Sha256(weights));
        Assert.Equal(1, first.FilesHashed);                        // same instance: remembered

        var another = new FileHashCache(cacheFile);                 // as the next run's process sees it
        Assert.Equal(Direct(weights), another.Sha256(weights));
        Assert.Equal(0, another.FilesHashed);

        bytes[12345] ^= 0xFF;                                       // same size, new content and modification time
        File.WriteAllBytes(weights, bytes);
        File.SetLastWriteTimeUtc(weights, File.GetLastWriteTimeUtc(weights).AddSeconds(5));
        Assert.Equal(Direct(weights), another.Sha256(weights));
        Assert.Equal(1, another.FilesHashed);

        File.AppendAllText(weights, "x");                           // a new size
        var grown = another.Sha256(weights);
        Assert.Equal(Direct(weights), grown);
        Assert.Equal(2, another.FilesHashed);
    }

    [Fact]
    public void ADamagedCacheFileCostsOnlyARehash()
    {
        using var dir = new TempDir("hash-cache-bad");
        var file = dir.File("config.json");
        File.WriteAllText(file, """{"hidden_size": 8}""");
        File.WriteAllText(dir.File("cache.json"), "{ not json");
        var cache = new FileHashCache(dir.File("cache.json"));
        Assert.Equal(Direct(file), cache.Sha256(file));
        Assert.Equal(1, cache.FilesHashed);
        Assert.Equal(Direct(file), new FileHashCache(dir.File("cache.json")).Sha256(file));   // rewritten as valid JSON
    }

    [Fact]
    public void TheModelFingerprintOfASecondRunReadsNoWeights()
    {
        using var dir = new TempDir("hash-cache-model");
        var model = dir.File("model");
        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, "config.json"), """{"model_type": "llama"}""");
        File.WriteAllBytes(Path.Combine(model, "model.safetensors"), new byte[4096]);
        var cache = new FileHashCache(dir.File("cache.json"));
        var first = RunFingerprints.Model(model, null, model, hashes: cache);
        Assert.Equal(2, cache.FilesHashed);
        var nextRun = new FileHashCache(dir.File("cache.json"));
        var second = RunFingerprints.Model(model, null, model, hashes: nextRun);
        Assert.Equal(0, nextRun.FilesHashed);
        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Equal(Direct(Path.Combine(model, "model.safetensors")), second.Sha256["model.safetensors"]);
        Assert.Equal(Direct(Path.Combine(model, "config.json")), second.Sha256["config.json"]);
    }
}
