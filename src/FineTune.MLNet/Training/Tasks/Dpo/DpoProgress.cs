namespace FineTune.MLNet.Training.Tasks.Dpo;

/// <summary>DPO metrics after an optimizer step (means over the step's batches) or a validation pass.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Step">Optimizer steps taken so far.</param>
/// <param name="IsValidation">True for a validation pass.</param>
/// <param name="Metrics">Loss, rewards (chosen, rejected, margin, accuracy) and log-probs.</param>
public sealed record DpoProgress(int Epoch, long Step, bool IsValidation, DpoMetrics Metrics);
