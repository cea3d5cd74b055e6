using FineTune.MLNet.Training;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>A one-line progress bar on standard error, redrawn after each optimizer step.</summary>
internal sealed class ProgressBar : IProgress<TrainingProgress>
{
    private readonly object _gate = new();

    public void Report(TrainingProgress p)
    {
        lock (_gate)
        {
            if (p.IsValidation)
            {
                var scores = p.ValidationAccuracy is { } accuracy
                    ? $", accuracy {accuracy:P1}, macro-F1 {p.ValidationMacroF1:F3}"
                    : $", perplexity {Math.Exp(p.ValidationLoss!.Value):F3}";
                Console.Error.WriteLine($"\repoch {p.Epoch + 1}: train loss {p.TrainLoss:F4}, validation loss {p.ValidationLoss:F4}{scores}".PadRight(100));
                return;
            }
            const int width = 30;
            var filled = (int)(width * p.Step / Math.Max(1, p.TotalSteps));
            Console.Error.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] step {p.Step}/{p.TotalSteps} epoch {p.Epoch + 1} loss {p.TrainLoss:F4} lr {p.LearningRate:E2} {p.TokensPerSecond:F0} tok/s ");
            if (p.Step == p.TotalSteps) Console.Error.WriteLine();
        }
    }
}
