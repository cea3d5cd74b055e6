using Microsoft.ML.Runtime;

namespace FineTune.MLNet.Training.Tasks.Dpo;

/// <summary>
/// Sits between the shared loop and the caller: each report that carries DPO metrics (every optimizer step and validation
/// pass; see <see cref="TrainingProgress.Metrics"/>) is logged (reward margin included) to the ML.NET channel and reported
/// to the caller's <see cref="IProgress{T}"/> of <see cref="DpoProgress"/>; every report is then forwarded to the caller's
/// <see cref="IProgress{T}"/> of <see cref="TrainingProgress"/>. The run's history is the loop's
/// (<see cref="HistoryOf"/>), which a checkpoint carries across a resume.
/// </summary>
internal sealed class DpoMetricsMonitor(IChannel? log, IProgress<DpoProgress>? dpoProgress, IProgress<TrainingProgress>? inner)
    : IProgress<TrainingProgress>
{
    /// <summary>Every step's and validation pass's DPO metrics of a run, in order, the parts before a resume included.</summary>
    public static List<DpoProgress> HistoryOf(TrainerState state) =>
        [.. state.MetricsHistory.Select(r => new DpoProgress(r.Epoch, r.Step, r.IsValidation, DpoMetrics.FromReportNames(r.Metrics)))];

    public void Report(TrainingProgress value)
    {
        if (value.Metrics is { } names)
        {
            var metrics = DpoMetrics.FromReportNames(names);
            var entry = new DpoProgress(value.Epoch, value.Step, value.IsValidation, metrics);
            log?.Log($"DPO {(value.IsValidation ? "validation" : "step")} {value.Step}/{value.TotalSteps}: {metrics}");
            dpoProgress?.Report(entry);
        }
        inner?.Report(value);
    }
}
