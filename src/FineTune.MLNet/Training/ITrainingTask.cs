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

    /// <summary>The batch's mean loss (a scalar tensor in the caller's dispose scope) and its non-padding token count.</summary>
    (Tensor Loss, long Tokens) ComputeLoss(int[] rows);

    /// <summary>Evaluates the validation set; null when there is none.</summary>
    ValidationResult? Validate();
}

/// <summary>Validation outcome: the loss drives early stopping; the rest is reported.</summary>
internal sealed record ValidationResult(double Loss, double? Accuracy = null, double? MacroF1 = null);
