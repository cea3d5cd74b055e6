using static TorchSharp.torch;

namespace FineTune.MLNet.Training;

/// <summary>
/// What <see cref="TrainingLoop"/> trains: examples with lengths (for length-bucketed batching), a loss for a batch of
/// example indices, and an optional validation pass. Classification and SFT are two small implementations.
/// </summary>
internal interface ITrainingTask
{
    /// <summary>Token count of each training example.</summary>
    IReadOnlyList<int> Lengths { get; }

    /// <summary>The batch's loss, token count and optional metric sums (see <see cref="BatchLoss"/>).</summary>
    BatchLoss ComputeLoss(int[] rows);

    /// <summary>
    /// The task's metrics of one optimizer step under their log names, from the element-wise sum of the step's
    /// <see cref="BatchLoss.MetricSums"/> (the loop sums them on the device and reads them once per step); null when the
    /// task returns no sums.
    /// </summary>
    IReadOnlyDictionary<string, double>? StepMetrics(Tensor sums) => null;

    /// <summary>Evaluates the validation set; null when there is none.</summary>
    ValidationResult? Validate();
}

/// <summary>One batch for <see cref="TrainingLoop"/>.</summary>
/// <param name="Loss">The batch's mean loss, a scalar tensor in the caller's dispose scope.</param>
/// <param name="Tokens">Non-padding tokens of the batch (throughput).</param>
/// <param name="MetricSums">Optional device-side sums (a 1-D tensor of fixed length) that the loop adds up over an optimizer
/// step and hands to <see cref="ITrainingTask.StepMetrics"/>.</param>
internal sealed record BatchLoss(Tensor Loss, long Tokens, Tensor? MetricSums = null);

/// <summary>Validation outcome: the loss drives early stopping; the rest is reported (<paramref name="Metrics"/>: the task's own, by log name).</summary>
internal sealed record ValidationResult(double Loss, double? Accuracy = null, double? MacroF1 = null, IReadOnlyDictionary<string, double>? Metrics = null);
