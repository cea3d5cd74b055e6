using Microsoft.ML.Runtime;

namespace FineTune.MLNet.Training.Tasks.Dpo;

/// <summary>
/// Sits between the shared loop and the caller: each report that carries DPO metrics (every optimizer step and validation
/// pass; see <see cref="TrainingProgress.Metrics"/>) is logged (reward margin included) to the ML.NET channel, recorded in
/// <see cref="History"/> and reported to the caller's <see cref="IProgress{T}"/> of <see cref="DpoProgress"/>; every report
/// is then forwarded to the caller's <see cref="IProgress{T}"/> of <see cref="TrainingProgress"/>.
/// </summary>
internal sealed class DpoMetricsMonitor(IChannel? log, IProgress<DpoProgress>? dpoProgress, IProgress<TrainingProgress>? inner)
    : IProgress<TrainingProgress>
{
    private readonly List<DpoProgress> history = [];

    /// <summary>Every step's and validation pass's metrics, in order.</summary>
    public IReadOnlyList<DpoProgress> History => history;

    public void Report(TrainingProgress value)
    {
        if (value.Metrics is { } names)
        {
            var metrics = DpoMetrics.FromReportNames(names);
            var entry = new DpoProgress(value.Epoch, value.Step, value.IsValidation, metrics);
            history.Add(entry);
            log?.Log($"DPO {(value.IsValidation ? "validation" : "step")} {value.Step}/{value.TotalSteps}: {metrics}");
            dpoProgress?.Report(entry);
        }
        inner?.Report(value);
    }
}
