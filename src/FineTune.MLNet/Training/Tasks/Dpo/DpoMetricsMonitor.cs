using Microsoft.ML.Runtime;

namespace FineTune.MLNet.Training.Tasks.Dpo;

/// <summary>
/// Sits on <see cref="TrainerOptions.Progress"/> of the shared loop: on each step report it takes the task's DPO
/// metrics, logs them (reward margin included) to the ML.NET channel, records them in <see cref="History"/>, reports
/// them to the caller's <see cref="IProgress{T}"/> of <see cref="DpoProgress"/>, then forwards the loop's report.
/// </summary>
internal sealed class DpoMetricsMonitor(DpoTask task, IChannel? log, IProgress<DpoProgress>? dpoProgress, IProgress<TrainingProgress>? inner)
    : IProgress<TrainingProgress>
{
    private readonly List<DpoProgress> history = [];

    /// <summary>Every step's and validation pass's metrics, in order.</summary>
    public IReadOnlyList<DpoProgress> History => history;

    public void Report(TrainingProgress value)
    {
        var metrics = value.IsValidation ? task.LastValidation : task.TakeTrainingMetrics();
        if (metrics is not null)
        {
            var entry = new DpoProgress(value.Epoch, value.Step, value.IsValidation, metrics);
            history.Add(entry);
            log?.Log($"DPO {(value.IsValidation ? "validation" : "step")} {value.Step}/{value.TotalSteps}: {metrics}");
            dpoProgress?.Report(entry);
        }
        inner?.Report(value);
    }
}
