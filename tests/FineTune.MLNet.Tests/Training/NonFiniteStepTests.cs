using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Resume;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Training;

/// <summary>
/// NaN / Inf steps: skipped with weights and AdamW moments untouched (checked bitwise in the checkpoints around them),
/// logged, and K in a row stop training with the last checkpoint intact. The bad steps are real float32 overflows of
/// the batch's loss (w · 1e30 squared), or a NaN gradient under a finite loss (√|x| at 0).
/// </summary>
public sealed class NonFiniteStepTests
{
    private sealed class Pair : nn.Module<Tensor, Tensor>
    {
        private readonly Parameter w = new(tensor(new[] { 1.0f, -2.0f, 0.5f }));
        public Pair() : base(nameof(Pair)) => RegisterComponents();
        public Parameter W => w;
        public override Tensor forward(Tensor x) => x * w;
    }

    /// <summary>One example per batch; the forward passes listed in <paramref name="bad"/> (0-based, counted over the run) misbehave.</summary>
    private sealed class Task(Pair model, Func<int, bool> bad, bool gradientOnly = false, int n = 8) : ITrainingTask
    {
        private int calls;
        public IReadOnlyList<int> Lengths { get; } = Enumerable.Repeat(3, n).ToArray();
        public ValidationResult? Validate() => null;

        public BatchLoss ComputeLoss(int[] rows)
        {
            var w = model.W;
            if (!bad(calls++)) return new BatchLoss((w - 0.25f).pow(2).sum(), 1, 3);
            return gradientOnly
                ? new BatchLoss((w - w.detach()).abs().sqrt().sum(), 1, 3)          // loss 0, gradient NaN (d√|x|/dx at 0 = ∞ · 0)
                : new BatchLoss((w * 1e30f).pow(2).sum(), 1, 3);                    // 1e60 overflows float32: loss +∞, gradients ∞ / NaN
        }
    }

    private static (MLContext Ml, List<string> Warnings) Logging()
    {
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.RawMessage); };
        return (ml, warnings);
    }

    private static TrainerOptions Options(string checkpoints) => new()
    {
        Epochs = 1, BatchSize = 1, LearningRate = 0.05, WarmupRatio = 0, CheckpointDirectory = checkpoints, CheckpointEverySteps = 1,
        CheckpointsToKeep = 100,
    };

    private static Dictionary<string, byte[]> Tensors(string checkpoint)
    {
        using var c = CheckpointStore.Load(checkpoint);
        return c.Model.Select(kv => ("model/" + kv.Key, kv.Value))
            .Concat(c.Optimizer.Select(kv => ("optimizer/" + kv.Key, kv.Value)))
            .ToDictionary(kv => kv.Item1, kv => kv.Item2.contiguous().bytes.ToArray());
    }

    private static bool SameBits(Dictionary<string, byte[]> a, Dictionary<string, byte[]> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var other) && kv.Value.AsSpan().SequenceEqual(other));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ANonFiniteStepIsSkippedLeavingWeightsAndMomentsUntouched(bool gradientOnly)
    {
        using var dir = new TempDir();
        using var model = new Pair();
        var (ml, warnings) = Logging();
        using var channel = ((IChannelProvider)ml).Start("test");
        var report = new TrainingLoop(Options(dir.Path), channel).Run(model, new Task(model, call => call is 2 or 3, gradientOnly));

        Assert.True(report.Completed);
        Assert.Equal(8, report.State.GlobalStep);
        Assert.Equal(2, report.State.NonFiniteSteps);
        Assert.Equal(0, report.State.ConsecutiveNonFiniteSteps);
        Assert.Equal(2, warnings.Count);
        Assert.Contains("Skipped optimizer step 3 (epoch 1", warnings[0]);
        Assert.Contains("Skipped optimizer step 4 (epoch 1", warnings[1]);
        Assert.Contains(gradientOnly ? "gradient norm NaN" : "loss Infinity", warnings[0]);

        var steps = Enumerable.Range(1, 8).ToDictionary(s => s, s => Tensors(Path.Combine(dir.Path, $"checkpoint-{s}")));
        Assert.Equal(4, steps[1].Count);                 // w, exp_avg.w, exp_avg_sq.w, step
        Assert.True(SameBits(steps[2], steps[3]), "the skipped step 3 changed weights or optimizer state");
        Assert.True(SameBits(steps[3], steps[4]), "the skipped step 4 changed weights or optimizer state");
        Assert.False(SameBits(steps[1], steps[2]), "a good step must change the weights (the check could not fail otherwise)");
        Assert.False(SameBits(steps[4], steps[5]), "the first good step after the skips must update");
        using (var last = CheckpointStore.Load(Path.Combine(dir.Path, "checkpoint-8")))
        {
            Assert.Equal(6, last.Optimizer["step"].item<long>());                     // AdamW took 6 of the 8 steps
            Assert.All(model.W.data<float>().ToArray(), v => Assert.True(float.IsFinite(v)));
        }
        Assert.True(float.IsFinite((float)report.State.History[0].TrainLoss));
    }

    [Fact]
    public void TooManyNonFiniteStepsInARowStopWithTheLastCheckpointIntact()
    {
        using var dir = new TempDir();
        using var model = new Pair();
        var options = Options(dir.Path) with { MaxConsecutiveNonFiniteSteps = 3 };
        var e = Assert.Throws<TrainingHaltedException>(() => new TrainingLoop(options, null).Run(model, new Task(model, call => call >= 2)));

        Assert.Contains("3 optimizer steps in a row", e.Message);
        Assert.Contains("step 5 (epoch 1", e.Message);
        Assert.Contains("MaxConsecutiveNonFiniteSteps is 3", e.Message);
        Assert.Equal(Path.Combine(dir.Path, "checkpoint-4"), e.LastCheckpoint);
        Assert.Contains(e.LastCheckpoint!, e.Message);
        Assert.Equal(["checkpoint-1", "checkpoint-2", "checkpoint-3", "checkpoint-4"], CheckpointStore.List(dir.Path).Select(Path.GetFileName));
        // Steps 3 and 4 were skipped, so the last checkpoint holds the weights of step 2, and they are finite and verified.
        CheckpointManifest.Verify(e.LastCheckpoint!);
        Assert.True(SameBits(Tensors(Path.Combine(dir.Path, "checkpoint-2")), Tensors(e.LastCheckpoint!)));
        using var last = CheckpointStore.Load(e.LastCheckpoint!);
        Assert.Equal(2, last.State.ConsecutiveNonFiniteSteps);
        Assert.All(last.Model["w"].data<float>().ToArray(), v => Assert.True(float.IsFinite(v)));
    }
}

/// <summary>The guard's on-device clipping is libtorch's <c>clip_grad_norm_</c>, bit for bit (so skipping its host sync changed no result).</summary>
public sealed class DeviceClippingTests
{
    [Theory]
    [InlineData(0.5)]      // clips
    [InlineData(1e6)]      // leaves the gradients as they are
    public void ClippingOnTheDeviceEqualsLibtorchClipGradNorm(double maxNorm)
    {
        random.manual_seed(3);
        using var scope = NewDisposeScope();
        Parameter[] Make() => [new(randn(17, 5)), new(randn(5)), new(randn(3, 4, 2))];
        var ours = Make();
        random.manual_seed(3);
        var theirs = Make();
        foreach (var set in new[] { ours, theirs })
        {
            random.manual_seed(4);
            set.Select(p => (p * randn(p.shape) * 3).sum()).Aggregate((a, b) => a + b).backward();
        }
        var expectedNorm = nn.utils.clip_grad_norm_(theirs, maxNorm);
        var check = new NonFiniteGuard(new TrainerOptions { MaxGradNorm = maxNorm }, null).ReadAndClip(tensor(1.5f), ours);

        Assert.Equal(1.5f, check.Loss);
        Assert.Equal((float)expectedNorm, check.GradNorm);
        for (var i = 0; i < ours.Length; i++)
            Assert.True(ours[i].grad!.bytes.SequenceEqual(theirs[i].grad!.bytes), $"gradient {i} differs after clipping");
    }
}
