using System.Text.Json;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Checkpoints;

public class HfCheckpointTests
{
    private static string ShardedFixture => CheckpointTestFiles.Fixture("checkpoints", "tiny-llama-bf16-sharded");

    [Fact]
    public void LoadsShardedBf16CheckpointMatchingTheReferenceReader()
    {
        Assert.True(Directory.GetFiles(ShardedFixture, "model-*-of-*.safetensors").Length > 1);
        var tensors = HfCheckpoint.LoadFolder(ShardedFixture);
        Assert.All(tensors.Values, t => Assert.Equal(ScalarType.BFloat16, t.dtype));
        SafeTensorsFixtureTests.AssertMatchesSummary(tensors, CheckpointTestFiles.Fixture("checkpoints", "tiny-llama-bf16-sharded_expected.json"));
    }

    [Fact]
    public void StreamsShardedCheckpointTensorByTensorAsLoadFolderLoadsIt()
    {
        var loaded = HfCheckpoint.LoadFolder(ShardedFixture);
        var infos = HfCheckpoint.ReadTensorInfos(ShardedFixture);
        Assert.Equal(loaded.Keys.Order(), infos.Keys.Order());
        var seen = new List<string>();
        HfCheckpoint.StreamFolder(ShardedFixture, (name, tensor) =>
        {
            seen.Add(name);
            Assert.Equal(infos[name].ShapeArray(), tensor.shape);
            Assert.Equal(loaded[name].dtype, tensor.dtype);
            Assert.True(loaded[name].eq(tensor).all().item<bool>(), $"streamed '{name}' differs from the loaded tensor");
        });
        Assert.Equal(loaded.Keys.Order(), seen.Order());
        Assert.True(seen.Count > 1);
    }

    [Fact]
    public void LoadsSingleFileCheckpoint()
    {
        var tensors = HfCheckpoint.LoadFolder(CheckpointTestFiles.Fixture("tiny-bert"));
        Assert.Equal([512L, 64L], tensors["bert.embeddings.word_embeddings.weight"].shape);
        Assert.Equal([3L, 64L], tensors["classifier.weight"].shape);
    }

    [Fact]
    public void SaveFolderShardsRoundTripAndWriteAnIndex()
    {
        using var dir = new TempDir();
        var tensors = new Dictionary<string, Tensor>
        {
            ["a.weight"] = randn(10, 10),          // 400 bytes
            ["b.weight"] = randn(10, 10).to(ScalarType.BFloat16), // 200 bytes
            ["c.bias"] = randn(10),                // 40 bytes
            ["d.big"] = randn(30, 10),             // 1200 bytes: larger than a shard, gets its own
        };
        HfCheckpoint.SaveFolder(dir.Path, tensors, maxShardBytes: 500);

        var files = Directory.GetFiles(dir.Path).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
            HfCheckpoint.IndexFileName], files);
        using var index = JsonDocument.Parse(File.ReadAllText(dir.File(HfCheckpoint.IndexFileName)));
        Assert.Equal(1840, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var map = index.RootElement.GetProperty("weight_map");
        Assert.Equal("model-00001-of-00003.safetensors", map.GetProperty("a.weight").GetString());
        Assert.Equal("model-00002-of-00003.safetensors", map.GetProperty("b.weight").GetString());
        Assert.Equal("model-00002-of-00003.safetensors", map.GetProperty("c.bias").GetString());
        Assert.Equal("model-00003-of-00003.safetensors", map.GetProperty("d.big").GetString());

        var loaded = HfCheckpoint.LoadFolder(dir.Path);
        foreach (var (name, tensor) in tensors)
        {
            Assert.True(SafeTensorsRoundTripTests.SameValues(tensor, loaded[name]), name);
            Assert.Equal(tensor.dtype, loaded[name].dtype);
        }
    }

    [Fact]
    public void SaveFolderSwitchingLayoutsRemovesTheStaleOne()
    {
        using var dir = new TempDir();
        var big = new Dictionary<string, Tensor> { ["a"] = ones(100), ["b"] = ones(100) };
        HfCheckpoint.SaveFolder(dir.Path, big, maxShardBytes: 400);
        Assert.True(File.Exists(dir.File(HfCheckpoint.IndexFileName)));

        var small = new Dictionary<string, Tensor> { ["a"] = zeros(3) };
        HfCheckpoint.SaveFolder(dir.Path, small);
        Assert.Equal([HfCheckpoint.SingleFileName], Directory.GetFiles(dir.Path).Select(Path.GetFileName));

        HfCheckpoint.SaveFolder(dir.Path, big, maxShardBytes: 400);
        Assert.False(File.Exists(dir.File(HfCheckpoint.SingleFileName))); // would otherwise shadow the shards
        Assert.Equal(1f, HfCheckpoint.LoadFolder(dir.Path)["b"].mean().item<float>());
    }

    [Theory]
    [InlineData("pytorch_model.bin")]
    [InlineData("model.pt")]
    [InlineData("last.ckpt")]
    public void RefusesPickleCheckpoints(string file)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File(file), [0x80, 0x02]);
        var e = Assert.Throws<NotSupportedException>(() => HfCheckpoint.LoadFolder(dir.Path));
        Assert.Contains(file, e.Message);
        Assert.Contains("not loaded for safety", e.Message);
        Assert.Contains("safe_serialization=True", e.Message);
    }

    [Fact]
    public void EmptyFolderSaysWhatWasLookedFor()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => HfCheckpoint.LoadFolder(dir.Path));
        Assert.Contains(HfCheckpoint.SingleFileName, e.Message);
        Assert.Contains(HfCheckpoint.IndexFileName, e.Message);
    }

    [Theory]
    [InlineData("../outside.safetensors")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/inner.safetensors")]
    public void RejectsShardPathsOutsideTheFolder(string shard)
    {
        using var dir = new TempDir();
        var folder = Path.Combine(dir.Path, "ckpt");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        SafeTensorsFile.Save(Path.Combine(dir.Path, "outside.safetensors"), new Dictionary<string, Tensor> { ["w"] = ones(1) });
        SafeTensorsFile.Save(Path.Combine(folder, "sub", "inner.safetensors"), new Dictionary<string, Tensor> { ["w"] = ones(1) });
        WriteIndex(folder, ("w", shard));
        var e = Assert.Throws<SafeTensorsFormatException>(() => HfCheckpoint.LoadFolder(folder));
        Assert.Contains(HfCheckpoint.IndexFileName, e.Message);
        Assert.Contains("is not a file name inside the checkpoint folder", e.Message);
    }

    [Fact]
    public void RejectsIndexWithMissingShardFile()
    {
        using var dir = new TempDir();
        WriteIndex(dir.Path, ("w", "model-00001-of-00001.safetensors"));
        var e = Assert.Throws<SafeTensorsFormatException>(() => HfCheckpoint.LoadFolder(dir.Path));
        Assert.Contains("shard 'model-00001-of-00001.safetensors' listed in weight_map does not exist", e.Message);
    }

    [Fact]
    public void RejectsIndexListingAKeyItsShardDoesNotHave()
    {
        using var dir = new TempDir();
        SafeTensorsFile.Save(dir.File("s1.safetensors"), new Dictionary<string, Tensor> { ["a"] = ones(1) });
        SafeTensorsFile.Save(dir.File("s2.safetensors"), new Dictionary<string, Tensor> { ["b"] = ones(1) });
        WriteIndex(dir.Path, ("a", "s1.safetensors"), ("b", "s1.safetensors"), ("ghost", "s2.safetensors"));
        var e = Assert.Throws<SafeTensorsFormatException>(() => HfCheckpoint.LoadFolder(dir.Path));
        Assert.Contains("weight_map puts tensor 'b' in 's1.safetensors', but it is in 's2.safetensors'", e.Message);
    }

    [Fact]
    public void RejectsATensorStoredInTwoShards()
    {
        using var dir = new TempDir();
        SafeTensorsFile.Save(dir.File("s1.safetensors"), new Dictionary<string, Tensor> { ["a"] = ones(1) });
        SafeTensorsFile.Save(dir.File("s2.safetensors"), new Dictionary<string, Tensor> { ["a"] = ones(1), ["b"] = ones(1) });
        WriteIndex(dir.Path, ("a", "s1.safetensors"), ("b", "s2.safetensors"));
        var e = Assert.Throws<SafeTensorsFormatException>(() => HfCheckpoint.LoadFolder(dir.Path));
        Assert.Contains("tensor 'a' is stored in both", e.Message);
    }

    [Fact]
    public void RejectsIndexWithoutWeightMap()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File(HfCheckpoint.IndexFileName), "{\"metadata\": {}}");
        var e = Assert.Throws<SafeTensorsFormatException>(() => HfCheckpoint.LoadFolder(dir.Path));
        Assert.Contains("no 'weight_map'", e.Message);
    }

    private static void WriteIndex(string folder, params (string Name, string Shard)[] entries)
    {
        var map = entries.ToDictionary(e => e.Name, e => e.Shard);
        var json = JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = map });
        File.WriteAllText(Path.Combine(folder, HfCheckpoint.IndexFileName), json);
    }
}
