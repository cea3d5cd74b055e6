namespace FineTune.MLNet.Planning;

/// <summary>
/// Bytes a training run holds at its peak, by what holds them (all float32 on the CPU, NF4 for a QLoRA base).
/// </summary>
/// <param name="TotalParameters">Parameters of the model (LoRA adapters included).</param>
/// <param name="TrainableParameters">Parameters the optimizer updates.</param>
/// <param name="WeightBytes">Weights (and, for classifiers, the pretrained copy the estimator keeps while it trains).</param>
/// <param name="GradientBytes">One float32 gradient per trainable parameter.</param>
/// <param name="OptimizerBytes">AdamW's two float32 moments per trainable parameter.</param>
/// <param name="ActivationBytes">What the forward pass keeps for the backward at the batch size and sequence length.</param>
/// <param name="LogitsBytes">Logits with their softmax and gradient (decoders: one chunk of the fused head; classifiers: negligible).</param>
public sealed record MemoryEstimate(
    double TotalParameters,
    double TrainableParameters,
    double WeightBytes,
    double GradientBytes,
    double OptimizerBytes,
    double ActivationBytes,
    double LogitsBytes)
{
    /// <summary>The sum of the parts.</summary>
    public double TotalBytes => WeightBytes + GradientBytes + OptimizerBytes + ActivationBytes + LogitsBytes;
}
