using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Training;
using Parameter = TorchSharp.Modules.Parameter;
using AdamW = FineTune.MLNet.Training.AdamW;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Training;

public sealed class OptimizerAndScheduleTests
{
    [Fact]
    public void AdamWMatchesTorchSharpsAdamW()
    {
        random.manual_seed(3);
        using var a = new Parameter(randn(5, 4));
        using var b = new Parameter(a.detach().clone());
        using var ours = new AdamW([("w", a)], weightDecay: 0.01, decays: _ => true);
        var theirs = optim.AdamW([b], lr: 1e-2, weight_decay: 0.01);
        for (var step = 0; step < 5; step++)
        {
            using var target = randn(5, 4);
            (a - target).pow(2).sum().backward();
            (b - target).pow(2).sum().backward();
            ours.Step(1e-2);
            theirs.step();
            ours.ZeroGrad();
            theirs.zero_grad();
        }
        var diff = (a - b).abs().max().item<float>();
        Assert.True(diff < 1e-6, $"AdamW differs from torch.optim.AdamW by {diff}");
    }

    [Fact]
    public void AdamWStateRoundTripsForExactResume()
    {
        random.manual_seed(4);
        using var p = new Parameter(randn(3));
        using var opt = new AdamW([("p", p)], 0, _ => false);
        p.sum().backward();
        opt.Step(0.1);
        var state = opt.StateDict();
        using var q = new Parameter(p.detach().clone());
        using var restored = new AdamW([("p", q)], 0, _ => false);
        restored.LoadStateDict(state);
        Assert.Equal(1, restored.StepCount);
        p.grad!.fill_(0.5f); q.grad = full(3, 0.5f);
        opt.Step(0.1); restored.Step(0.1);
        Assert.True(p.eq(q).all().item<bool>());
        var missing = new Dictionary<string, Tensor> { ["step"] = tensor(new long[] { 1 }) };
        var e = Assert.Throws<InvalidDataException>(() => { restored.LoadStateDict(missing); });
        Assert.Contains("exp_avg.p", e.Message);
    }

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(5, 0.5)]
    [InlineData(10, 1.0)]
    [InlineData(55, 0.5)]
    [InlineData(100, 0.0)]
    public void LinearWarmupThenLinearDecay(long step, double expected) =>
        AssertClose(expected, LearningRateSchedule.Multiplier(step, 10, 100, LearningRateDecay.Linear), atol: 1e-12, what: $"multiplier at step {step}");

    [Theory]
    [InlineData(10, 1.0)]
    [InlineData(55, 0.5)]
    [InlineData(100, 0.0)]
    public void CosineDecayIsHalfCosine(long step, double expected) =>
        AssertClose(expected, LearningRateSchedule.Multiplier(step, 10, 100, LearningRateDecay.Cosine), atol: 1e-12, what: $"multiplier at step {step}");

    [Fact]
    public void BatchesCoverEveryExampleOnceAndGroupLengths()
    {
        var rng = new Random(1);
        var lengths = Enumerable.Range(0, 1000).Select(_ => rng.Next(5, 200)).ToArray();
        var batches = LengthBucketBatcher.Batches(lengths, 16, seed: 9, epoch: 2);
        Assert.Equal(Enumerable.Range(0, 1000), batches.SelectMany(b => b).Order());
        // Within a batch lengths are close: far less padding than random batches.
        double Waste(IEnumerable<int[]> bs) => bs.Sum(b => b.Max(i => lengths[i]) * b.Length - b.Sum(i => lengths[i]));
        var random = Enumerable.Range(0, 1000).Chunk(16);
        Assert.True(Waste(batches) < 0.2 * Waste(random), $"bucketed waste {Waste(batches)} vs random {Waste(random)}");
        Assert.Equal(batches.Select(b => string.Join(",", b)), LengthBucketBatcher.Batches(lengths, 16, 9, 2).Select(b => string.Join(",", b)));
        Assert.NotEqual(batches[0], LengthBucketBatcher.Batches(lengths, 16, 9, 3)[0]);
    }
}
