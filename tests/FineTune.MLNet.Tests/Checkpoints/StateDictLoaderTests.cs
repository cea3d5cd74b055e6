using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Modules;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Checkpoints;

public class StateDictLoaderTests
{
    /// <summary>Parameters proj.weight, proj.bias, norm.weight, norm.bias; persistent buffer "running"; non-persistent "cache".</summary>
    private sealed class Tiny : nn.Module<Tensor, Tensor>
    {
        private readonly Linear proj;
        private readonly LayerNorm norm;

        public Tiny(int inFeatures = 4) : base("tiny")
        {
            proj = nn.Linear(inFeatures, 3);
            norm = nn.LayerNorm(3);
            RegisterComponents();
            register_buffer("running", zeros(3));
            register_buffer("cache", zeros(2), persistent: false);
        }

        public override Tensor forward(Tensor x) => norm.forward(proj.forward(x));
    }

    private static readonly string[] TinyKeys = ["norm.bias", "norm.weight", "proj.bias", "proj.weight", "running"];

    private static Dictionary<string, Tensor> RandomStateFor(nn.Module module, int seed)
    {
        var g = new Generator((ulong)seed);
        return StateDictLoader.ToStateDict(module).ToDictionary(kv => kv.Key, kv => randn(kv.Value.shape, generator: g));
    }

    [Fact]
    public void LoadsEveryParameterAndPersistentBuffer()
    {
        using var module = new Tiny();
        var state = RandomStateFor(module, 1);
        var report = StateDictLoader.LoadInto(module, state);

        Assert.True(report.IsExactMatch);
        Assert.Equal(5, report.Loaded);
        var after = StateDictLoader.ToStateDict(module);
        Assert.Equal(TinyKeys, after.Keys.Order(StringComparer.Ordinal));
        foreach (var key in TinyKeys)
        {
            Assert.True(SafeTensorsRoundTripTests.SameValues(state[key], after[key]), key);
        }
    }

    [Fact]
    public void ConvertsStoredDTypeToTheParameterDType()
    {
        using var module = new Tiny();
        var state = RandomStateFor(module, 2).ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.BFloat16));
        StateDictLoader.LoadInto(module, state);
        var weight = module.named_parameters().Single(p => p.name == "proj.weight").parameter;
        Assert.Equal(ScalarType.Float32, weight.dtype);
        Assert.True(SafeTensorsRoundTripTests.SameValues(state["proj.weight"].to(ScalarType.Float32), weight));
        Assert.True(weight.requires_grad);
    }

    [Fact]
    public void StrictLoadListsMissingAndUnexpectedKeysAndCopiesNothing()
    {
        using var module = new Tiny();
        var before = StateDictLoader.ToStateDict(module);
        var state = RandomStateFor(module, 3);
        state.Remove("proj.bias");
        state.Remove("running");
        state["extra.weight"] = ones(2);

        var e = Assert.Throws<InvalidOperationException>(() => StateDictLoader.LoadInto(module, state));
        Assert.Contains("Missing keys (2, in the module but not the state dict): 'proj.bias', 'running'", e.Message);
        Assert.Contains("Unexpected keys (1, in the state dict but not the module): 'extra.weight'", e.Message);
        var after = StateDictLoader.ToStateDict(module);
        Assert.True(SafeTensorsRoundTripTests.SameValues(before["proj.weight"], after["proj.weight"]));
    }

    [Fact]
    public void NonStrictLoadReportsMismatchesAndLoadsTheRest()
    {
        using var module = new Tiny();
        var state = RandomStateFor(module, 4);
        state.Remove("norm.weight");
        state["classifier.bias"] = ones(2);

        var report = StateDictLoader.LoadInto(module, state, strict: false);
        Assert.Equal(["norm.weight"], report.Missing);
        Assert.Equal(["classifier.bias"], report.Unexpected);
        Assert.Equal(4, report.Loaded);
        Assert.False(report.IsExactMatch);
        Assert.True(SafeTensorsRoundTripTests.SameValues(state["proj.weight"], StateDictLoader.ToStateDict(module)["proj.weight"]));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ShapeMismatchNamesTheKeyAndBothShapes(bool strict)
    {
        using var module = new Tiny();
        using var wider = new Tiny(inFeatures: 5);
        var state = StateDictLoader.ToStateDict(wider);
        var e = Assert.Throws<InvalidOperationException>(() => StateDictLoader.LoadInto(module, state, strict));
        Assert.Contains("'proj.weight'", e.Message);
        Assert.Contains("expects [3, 4]", e.Message);
        Assert.Contains("has [3, 5]", e.Message);
    }

    [Fact]
    public void LongKeyListsAreCutAfterTwentyWithACount()
    {
        using var module = new Tiny();
        var state = RandomStateFor(module, 5);
        for (int i = 0; i < 25; i++)
        {
            state[$"junk.{i:D2}"] = ones(1);
        }
        var e = Assert.Throws<InvalidOperationException>(() => StateDictLoader.LoadInto(module, state));
        Assert.Contains("Unexpected keys (25,", e.Message);
        Assert.Contains("'junk.19'", e.Message);
        Assert.DoesNotContain("'junk.20'", e.Message);
        Assert.Contains("and 5 more", e.Message);
    }

    [Fact]
    public void ToStateDictReturnsDetachedCpuCopies()
    {
        using var module = new Tiny();
        var state = StateDictLoader.ToStateDict(module);
        Assert.DoesNotContain("cache", state.Keys); // non-persistent buffers are not saved
        Assert.All(state.Values, t => Assert.False(t.requires_grad));
        var snapshot = state["proj.weight"].clone();
        using (no_grad())
        {
            module.named_parameters().Single(p => p.name == "proj.weight").parameter.add_(1f);
        }
        Assert.True(SafeTensorsRoundTripTests.SameValues(snapshot, state["proj.weight"]));
    }

    [Fact]
    public void SavedStateLoadsIntoAFreshModule()
    {
        using var dir = new TempDir();
        using var source = new Tiny();
        using var target = new Tiny();
        HfCheckpoint.SaveFolder(dir.Path, StateDictLoader.ToStateDict(source));
        StateDictLoader.LoadInto(target, HfCheckpoint.LoadFolder(dir.Path));
        var x = randn(2, 4);
        Assert.True(SafeTensorsRoundTripTests.SameValues(source.forward(x), target.forward(x)));
    }
}
