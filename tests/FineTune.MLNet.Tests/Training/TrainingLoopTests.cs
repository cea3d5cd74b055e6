using FineTune.MLNet.Training;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Training;

public sealed class TrainingLoopTests
{
    private sealed class Scalar : nn.Module<Tensor, Tensor>
    {
        private readonly Parameter w = new(tensor(new[] { 1.0f, -2.0f }));
        public Scalar() : base(nameof(Scalar)) => RegisterComponents();
        public Parameter W => w;
        public override Tensor forward(Tensor x) => x * w;
    }

    private sealed class Task(Scalar model, Func<Tensor, Tensor> loss, int n = 8) : ITrainingTask
    {
        public IReadOnlyList<int> Lengths { get; } = Enumerable.Repeat(3, n).ToArray();
        public BatchLoss ComputeLoss(int[] rows) => new(loss(model.W), 1, rows.Length * 3L);
        public ValidationResult? Validate() => new(model.W.pow(2).sum().item<float>());
    }

    [Fact]
    public void NonFiniteLossStopsWithAClearErrorAfterTheAllowedSkips()
    {
        using var model = new Scalar();
        var loop = new TrainingLoop(new TrainerOptions { Epochs = 2, BatchSize = 2 }, null);   // 8 steps, all NaN; 5 allowed in a row
        var e = Assert.Throws<TrainingHaltedException>(() => loop.Run(model, new Task(model, w => w.sum() * float.NaN)));
        Assert.Contains("5 optimizer steps in a row", e.Message);
        Assert.Contains("NaN", e.Message);
        Assert.Contains("LearningRate", e.Message);
        Assert.Contains("MaxConsecutiveNonFiniteSteps", e.Message);
        Assert.Equal([1.0f, -2.0f], model.W.data<float>().ToArray());   // never updated
    }

    [Fact]
    public void MinimisesAQuadratic()
    {
        using var model = new Scalar();
        var options = new TrainerOptions { Epochs = 50, BatchSize = 8, LearningRate = 0.1, WarmupRatio = 0, WeightDecay = 0 };
        var report = new TrainingLoop(options, null).Run(model, new Task(model, w => w.pow(2).sum()));
        Assert.True(report.Completed);
        Assert.Equal(50, report.State.GlobalStep);
        var final = model.W.pow(2).sum().item<float>();
        Assert.True(final < 0.05f, $"|w|² went from 5 to {final}");
    }

    [Fact]
    public void GradientAccumulationTakesOneStepPerGroup()
    {
        using var model = new Scalar();
        var options = new TrainerOptions { Epochs = 2, BatchSize = 2, GradientAccumulationSteps = 3, WarmupRatio = 0 };
        var report = new TrainingLoop(options, null).Run(model, new Task(model, w => w.pow(2).sum(), n: 10));
        // 5 batches per epoch -> groups of 3 + the epoch's remainder = 2 steps per epoch.
        Assert.Equal(4, report.State.GlobalStep);
        Assert.Equal(2, report.State.History.Count);
    }
}
