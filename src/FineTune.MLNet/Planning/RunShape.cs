namespace FineTune.MLNet.Planning;

/// <summary>The shape of a training step: examples per micro-batch and their (padded) length.</summary>
/// <param name="BatchSize">Examples per step (DPO: preference pairs, two sequences each).</param>
/// <param name="SequenceLength">Tokens per padded row: the longest example of a batch, at most the maximum length.</param>
/// <param name="Pairs">DPO: every example is a chosen and a rejected sequence.</param>
/// <param name="GradientCheckpointing">Decoder layers recomputed in the backward.</param>
/// <param name="Targets">LoRA target modules (decoders; classifiers always adapt query and value).</param>
public sealed record RunShape(int BatchSize, int SequenceLength, bool Pairs, bool GradientCheckpointing, IReadOnlyList<string> Targets)
{
    /// <summary>Throws naming the field when a size is not positive.</summary>
    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "--batch-size must be at least 1.");
        if (SequenceLength < 1) throw new ArgumentOutOfRangeException(nameof(SequenceLength), SequenceLength, "The sequence length must be at least 1.");
    }
}
