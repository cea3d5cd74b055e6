using System.Text.RegularExpressions;
using FineTune.MLNet.Cli.Terminal;
using FineTune.MLNet.Training;
using Spectre.Console.Testing;
using Xunit;

namespace FineTune.MLNet.Tests.Cli;

/// <summary>
/// The CLI's training progress: plain lines (what CI logs and redirected stderr get) and the Spectre.Console live bar
/// with its evaluation tables, rendered on a <see cref="TestConsole"/>; both fed the reports a training loop sends, on a
/// clock that advances 2 s per step, so the ETA is exact.
/// </summary>
public sealed class TrainingProgressViewTests
{
    /// <summary>A clock moved by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;
    }

    private static TrainingProgress Step(long step, long total, double loss, IReadOnlyDictionary<string, double>? metrics = null) =>
        new(Epoch: (int)((step - 1) / 2), Step: step, TotalSteps: total, TrainLoss: loss, LearningRate: 1e-3, TokensPerSecond: 123.4, Metrics: metrics);

    /// <summary>Sends steps 1..total (2 s apart) and, after step 2, a classifier's validation report.</summary>
    private static void Feed(TrainingProgressView view, ManualClock clock, long total, IReadOnlyDictionary<string, double>? stepMetrics = null,
        TrainingProgress? validation = null)
    {
        for (long s = 1; s <= total; s++)
        {
            view.Report(Step(s, total, 1.0 / s, stepMetrics));
            clock.Ticks += 2 * TimeSpan.TicksPerSecond;
            if (s == 2 && validation is not null) view.Report(validation);
        }
    }

    private static readonly TrainingProgress ClassifierValidation = new(0, 2, 4, 0.5, 0, 0, ValidationLoss: 0.25, ValidationAccuracy: 0.75, ValidationMacroF1: 0.7);

    [Fact]
    public void PlainLinesCarryStepOfTotalLossTokensPerSecondAndEta()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        using (var view = new PlainTrainingProgress(output, clock)) Feed(view, clock, 4, validation: ClassifierValidation);
        string[] expected =
        [
            "step 1/4 epoch 1 loss 1.0000 lr 1.00e-03 123 tok/s ETA --:--",
            "step 2/4 epoch 1 loss 0.5000 lr 1.00e-03 123 tok/s ETA 0:00:04",   // 2 s per step, 2 steps left
            "epoch 1 evaluation: train loss 0.5000, validation loss 0.2500, accuracy 75.0%, macro-F1 0.7000",
            "step 3/4 epoch 2 loss 0.3333 lr 1.00e-03 123 tok/s ETA 0:00:02",
            "step 4/4 epoch 2 loss 0.2500 lr 1.00e-03 123 tok/s ETA 0:00:00",
        ];
        Assert.Equal(expected, output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));   // 5 lines compared
    }

    [Fact]
    public void PlainLinesOfALongRunAreThinnedToAboutAHundred()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        using (var view = new PlainTrainingProgress(output, clock)) Feed(view, clock, 1000);
        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(101, lines.Length);   // step 1, then every 10th step
        Assert.StartsWith("step 1/1000 ", lines[0]);
        Assert.StartsWith("step 10/1000 ", lines[1]);
        Assert.StartsWith("step 1000/1000 ", lines[^1]);
        Assert.EndsWith("ETA 0:00:00", lines[^1]);
    }

    [Fact]
    public void ValidationRowsNameEachTasksMetrics()
    {
        var sft = ProgressFigures.EvaluationLine(new TrainingProgress(1, 6, 6, 2.0, 0, 0, ValidationLoss: Math.Log(3)));
        Assert.Equal("epoch 2 evaluation: train loss 2.0000, validation loss 1.0986, perplexity 3.000", sft);
        var dpoMetrics = new Dictionary<string, double> { ["loss"] = 0.6, ["rewards/margins"] = 0.125, ["rewards/accuracies"] = 0.5, ["pairs"] = 4 };
        var dpo = ProgressFigures.EvaluationLine(new TrainingProgress(0, 3, 3, 0.69, 0, 0, ValidationLoss: 0.6, Metrics: dpoMetrics));
        Assert.Equal("epoch 1 evaluation: train loss 0.6900, validation loss 0.6000, rewards/margins 0.1250, rewards/accuracies 50.0%", dpo);
        var step = ProgressFigures.Step(Step(1, 3, 0.69, dpoMetrics), TimeSpan.FromSeconds(3725));
        Assert.Equal("step 1/3 epoch 1 loss 0.6900 margin 0.1250 acc 50% lr 1.00e-03 123 tok/s ETA 1:02:05", step);
    }

    /// <summary>The console's text without ANSI escape sequences.</summary>
    private static string Text(TestConsole console) => Regex.Replace(console.Output, @"\x1b\[[0-9;?]*[A-Za-z]", "");

    [Fact]
    public void TheLiveBarRendersEachStepAndAnEvaluationTableOnATestConsole()
    {
        var clock = new ManualClock();
        using var console = new TestConsole().Width(160).Interactive().EmitAnsiSequences();
        var dpoMetrics = new Dictionary<string, double> { ["loss"] = 0.6, ["rewards/margins"] = 0.125, ["rewards/accuracies"] = 0.5, ["pairs"] = 4 };
        var validation = new TrainingProgress(0, 2, 4, 0.5, 0, 0, ValidationLoss: 0.25, Metrics: dpoMetrics);
        using (var view = new LiveTrainingProgress(console, clock)) Feed(view, clock, 4, dpoMetrics, validation);
        var text = Text(console);
        string[] expected =
        [
            "step 1/4 epoch 1 loss 1.0000 margin 0.1250 acc 50% lr 1.00e-03 123 tok/s ETA --:--",
            "step 2/4 epoch 1 loss 0.5000 margin 0.1250 acc 50% lr 1.00e-03 123 tok/s ETA 0:00:04",
            "step 4/4 epoch 2 loss 0.2500 margin 0.1250 acc 50% lr 1.00e-03 123 tok/s ETA 0:00:00",
            "epoch 1 evaluation", "validation loss", "0.2500", "rewards/margins", "rewards/accuracies", "50.0%",
        ];
        foreach (var piece in expected) Assert.Contains(piece, text);   // 9 pieces compared
        Assert.Contains("100%", text);                                   // the bar's percentage column at the last step
        Assert.DoesNotContain("pairs", text);
    }
}
