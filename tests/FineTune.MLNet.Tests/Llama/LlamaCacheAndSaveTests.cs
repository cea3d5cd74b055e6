using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Peft;
using Xunit;
using static TorchSharp.torch;
using static FineTune.MLNet.Tests.Llama.LlamaFixtures;

namespace FineTune.MLNet.Tests.Llama;

public class LlamaCacheAndSaveTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("llama-tied")]
    public void IncrementalDecodingWithCacheEqualsFullForward(string name)
    {
        using var m = Load(name);
        using var scope = NewDisposeScope();
        var ids = Row(Ids(name)[0]);                       // (1, 7)
        var full = m.Forward(ids);                         // (1, 7, V)
        using var cache = m.CreateCache();
        var prefix = m.Forward(ids.narrow(1, 0, 3), cache: cache);   // (1, 3, V)
        Assert.Equal(3, cache.Length);
        double prefixDiff = MaxAbsDiff(prefix, full.narrow(1, 0, 3));
        Assert.True(prefixDiff < 1e-5, $"prefix: {prefixDiff:E2}");
        for (int t = 3; t < 7; t++)
        {
            var step = m.Forward(ids.narrow(1, t, 1), cache: cache);     // (1, 1, V)
            double diff = MaxAbsDiff(step, full.narrow(1, t, 1));
            Assert.True(diff < 1e-5, $"position {t}: {diff:E2}");
        }
        Assert.Equal(7, cache.Length);
    }

    [Fact]
    public void LeftPaddedCachedStepMatchesUnpaddedSequence()
    {
        using var m = Load("llama");
        using var scope = NewDisposeScope();
        // Row 0 = [pad pad 1 5 9], row 1 = [1 5 9 17 33]; then one cached step each.
        var ids = Batch([[0, 0, 1, 5, 9], [1, 5, 9, 17, 33]]);
        var mask = Batch([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]]);
        using var cache = m.CreateCache();
        m.Forward(ids, mask, CausalMask.PositionIdsFromMask(mask), cache);
        var next = Batch([[17], [65]]);
        var mask2 = cat([mask, ones(2, 1, dtype: ScalarType.Int64)], 1);
        var pos2 = tensor(new long[] { 3, 5 }).unsqueeze(1);
        var step = m.Forward(next, mask2, pos2, cache);                 // (2, 1, V)
        var alone0 = m.Forward(Row([1, 5, 9, 17]));
        var alone1 = m.Forward(Row([1, 5, 9, 17, 33, 65]));
        Assert.True(MaxAbsDiff(step[0, 0], alone0[0, 3]) < 1e-5);
        Assert.True(MaxAbsDiff(step[1, 0], alone1[0, 5]) < 1e-5);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void SavedCheckpointReloadsWithSameLogits(string name)
    {
        using var m = Load(name);
        var dir = TempDir();
        LlamaCheckpointWriter.SaveMerged(m, dir);
        using var back = LlamaForCausalLM.FromPretrained(dir);
        Assert.Equal((m.Config with { TorchDtype = "float32" }).ToJson(), back.Config.ToJson());
        using var scope = NewDisposeScope();
        var ids = Row(Ids(name)[0]);
        Assert.Equal(0, MaxAbsDiff(m.Forward(ids), back.Forward(ids)));
    }

    [Fact]
    public void SaveMergedFoldsUnmergedAdapterWithoutChangingTheModel()
    {
        var lora = new LoraSettings { Rank = 2, Alpha = 4, Dropout = 0, TargetModules = ["all-linear"] };
        using var m = Load("llama", lora);
        using (no_grad())
        {
            foreach (var (n, p) in m.named_parameters().Where(p => p.name.Contains("lora_B")))
                p.normal_(0, 0.1);
        }
        using var scope = NewDisposeScope();
        var ids = Row(Ids("llama")[0]);
        var before = m.Forward(ids);
        var dir = TempDir();
        LlamaCheckpointWriter.SaveMerged(m, dir, maxShardBytes: 20000);
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors.index.json")));
        Assert.All(m.LoraLayers(), l => Assert.False(l.Layer.Merged));
        using var back = LlamaForCausalLM.FromPretrained(dir);
        Assert.Empty(back.LoraLayers());
        double diff = MaxAbsDiff(back.Forward(ids), before);
        Assert.True(diff < 1e-5, $"{diff:E2}");
        using (m.DisableAdapters())
        {
            Assert.True(MaxAbsDiff(m.Forward(ids), before) > 1e-3);   // the adapter did change the model
        }
    }

    [Fact]
    public void SaveMergedAsBf16WritesTorchDtype()
    {
        using var m = Load("llama");
        var dir = TempDir();
        LlamaCheckpointWriter.SaveMerged(m, dir, ScalarType.BFloat16);
        Assert.Equal("bfloat16", LlamaConfig.FromJsonFile(Path.Combine(dir, "config.json")).TorchDtype);
        var header = SafeTensorsFile.ReadHeader(Path.Combine(dir, "model.safetensors"));
        Assert.All(header.Values, h => Assert.Equal("BF16", h.DType));
    }
}
