using System.Globalization;
using FineTune.MLNet.Training;

namespace FineTune.MLNet.Cli.Terminal;

/// <summary>
/// The numbers both views show, as text: a step's figures (step/total, epoch, loss, learning rate, tokens/s, the DPO
/// reward margin and accuracy when the task reports them, and the ETA from <see cref="EtaClock"/>) and an evaluation's
/// rows (train and validation loss, then the task's metrics: accuracy and macro-F1, perplexity, or TRL's rewards/* and logps/*).
/// </summary>
internal static class ProgressFigures
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A step's figures, e.g. <c>step 3/10 epoch 1 loss 0.6931 lr 5.00e-05 1234 tok/s ETA 0:00:12</c>.</summary>
    public static string Step(TrainingProgress p, TimeSpan? eta)
    {
        var text = string.Create(Invariant, $"step {p.Step}/{p.TotalSteps} epoch {p.Epoch + 1} loss {p.TrainLoss:F4}");
        if (p.Metrics is { } m && m.TryGetValue("rewards/margins", out var margin) && m.TryGetValue("rewards/accuracies", out var accuracy))
            text += string.Create(Invariant, $" margin {margin:F4} acc {Percent(accuracy, 0)}");
        return text + string.Create(Invariant, $" lr {p.LearningRate:0.00e+00} {p.TokensPerSecond:F0} tok/s ETA {Eta(eta)}");
    }

    /// <summary><c>h:mm:ss</c>, or <c>--:--</c> before a rate is known.</summary>
    public static string Eta(TimeSpan? eta) => eta is { } t ? string.Create(Invariant, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}") : "--:--";

    /// <summary>An evaluation's rows (name, value) in display order.</summary>
    public static IReadOnlyList<(string Name, string Value)> Evaluation(TrainingProgress p)
    {
        var rows = new List<(string, string)>
        {
            ("train loss", p.TrainLoss.ToString("F4", Invariant)),
            ("validation loss", p.ValidationLoss!.Value.ToString("F4", Invariant)),
        };
        if (p.ValidationAccuracy is { } accuracy)
        {
            rows.Add(("accuracy", Percent(accuracy, 1)));
            if (p.ValidationMacroF1 is { } f1) rows.Add(("macro-F1", f1.ToString("F4", Invariant)));
        }
        else if (p.Metrics is { Count: > 0 } metrics)
        {
            foreach (var (name, value) in metrics)
            {
                if (name is "loss" or "pairs") continue;   // the validation loss row already shows it; the pair count is not a metric
                rows.Add((name, name.EndsWith("accuracies", StringComparison.Ordinal) ? Percent(value, 1) : value.ToString("F4", Invariant)));
            }
        }
        else
        {
            rows.Add(("perplexity", Math.Exp(p.ValidationLoss!.Value).ToString("F3", Invariant)));
        }
        return rows;
    }

    /// <summary>A fraction as a percentage, <c>0.5</c> → <c>50.0%</c> (no culture's space before the sign).</summary>
    public static string Percent(double fraction, int decimals) => (100 * fraction).ToString("F" + decimals, Invariant) + "%";

    /// <summary>An evaluation on one line: <c>epoch 1 evaluation: train loss 0.6931, validation loss 0.7012, accuracy 50.0%, macro-F1 0.3333</c>.</summary>
    public static string EvaluationLine(TrainingProgress p) =>
        $"epoch {p.Epoch + 1} evaluation: " + string.Join(", ", Evaluation(p).Select(r => $"{r.Name} {r.Value}"));
}
