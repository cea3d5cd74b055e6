using FineTune.MLNet.Training.Tasks.Dpo;

/// <summary>
/// Prints the mean DPO metrics of every N optimizer steps (one step's batch is noisy) and each validation pass,
/// synchronously: <see cref="Progress{T}"/> would post to the thread pool and reorder lines. Shared by the DPO samples.
/// </summary>
internal sealed class DpoMarginLog(int everySteps) : IProgress<DpoProgress>
{
    private readonly List<DpoMetrics> _window = [];

    public void Report(DpoProgress p)
    {
        var m = p.Metrics;
        if (p.IsValidation)
        {
            Console.WriteLine($"    epoch {p.Epoch + 1} held-out pairs: reward margin {m.RewardsMargin,7:F3}, reward accuracy {m.RewardsAccuracy,4:P0}, loss {m.Loss:F4}");
            return;
        }
        _window.Add(m);
        if (_window.Count < everySteps) return;
        Console.WriteLine($"    steps {p.Step - _window.Count + 1,3}-{p.Step,-3}: reward margin {_window.Average(w => w.RewardsMargin),7:F3}, " +
                          $"reward accuracy {_window.Average(w => w.RewardsAccuracy),4:P0}, loss {_window.Average(w => w.Loss):F4}");
        _window.Clear();
    }
}
