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

    /// <summary>The batch's summed loss, its item count, token count and optional metric sums (see <see cref="BatchLoss"/>).</summary>
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
/// <param name="LossSum">The batch's loss summed over its items (not averaged), a scalar tensor in the caller's dispose
/// scope. The loop divides the gradients of a whole accumulation group by the group's <see cref="Items"/>, so batch 8
/// with accumulation 1 and batch 2 with accumulation 4 train on the same loss (as transformers' <c>num_items_in_batch</c>
/// and torchtune's gradient scaling by token count do).</param>
/// <param name="Items">What the loss is a mean over, counted on the host: supervised tokens for causal LMs, examples (or their
/// class weights) for classification, pairs for DPO.</param>
/// <param name="Tokens">Non-padding tokens of the batch (throughput).</param>
/// <param name="MetricSums">Optional device-side sums (a 1-D tensor of fixed length) that the loop adds up over an optimizer
/// step and hands to <see cref="ITrainingTask.StepMetrics"/>.</param>
internal sealed record BatchLoss(Tensor LossSum, double Items, long Tokens, Tensor? MetricSums = null)
{
    /// <summary>The batch's mean loss, <see cref="LossSum"/> / <see cref="Items"/> (0 when it has no items).</summary>
    public Tensor Mean() => LossSum.div(Math.Max(Items, 1e-12));
}

/// <summary>Validation outcome: the loss drives early stopping; the rest is reported (<paramref name="Metrics"/>: the task's own, by log name).</summary>
internal sealed record ValidationResult(double Loss, double? Accuracy = null, double? MacroF1 = null, IReadOnlyDictionary<string, double>? Metrics = null);
