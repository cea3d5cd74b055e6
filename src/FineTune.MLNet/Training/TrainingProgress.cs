namespace FineTune.MLNet.Training;

/// <summary>A progress report, sent after each optimizer step and after each validation pass.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Step">Optimizer steps taken so far.</param>
/// <param name="TotalSteps">Optimizer steps of the whole run.</param>
/// <param name="TrainLoss">Mean training loss of the last optimizer step.</param>
/// <param name="LearningRate">Learning rate used by the last step.</param>
/// <param name="TokensPerSecond">Training throughput (non-padding tokens) since the run (or resume) started.</param>
/// <param name="ValidationLoss">Set on validation reports.</param>
/// <param name="ValidationAccuracy">Set on validation reports.</param>
/// <param name="ValidationMacroF1">Set on validation reports.</param>
/// <param name="Metrics">The task's own metrics of this step or validation pass by log name (DPO: TRL's <c>rewards/margins</c>,
/// <c>rewards/accuracies</c>, ...); null for tasks that have none.</param>
/// <param name="GradNorm">Global L2 norm of the step's gradients before clipping; null on validation reports.</param>
public sealed record TrainingProgress(
    int Epoch,
    long Step,
    long TotalSteps,
    double TrainLoss,
    double LearningRate,
    double TokensPerSecond,
    double? ValidationLoss = null,
    double? ValidationAccuracy = null,
    double? ValidationMacroF1 = null,
    IReadOnlyDictionary<string, double>? Metrics = null,
    double? GradNorm = null)
{
    /// <summary>True for the report sent after a validation pass.</summary>
    public bool IsValidation => ValidationLoss is not null;
}
