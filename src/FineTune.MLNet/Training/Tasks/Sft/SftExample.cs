using FineTune.MLNet.Losses;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// One tokenized supervised fine-tuning example for a causal LM with completion-only loss.
/// </summary>
/// <remarks>
/// <para><see cref="Labels"/> is aligned with <see cref="InputIds"/> (Hugging Face convention): the loss shifts by
/// one, comparing the logits at position <c>t</c> with <c>Labels[t + 1]</c>. A label is either the token id at that
/// position (a response token, learned) or <see cref="CausalLmLoss.IgnoreIndex"/> (prompt, template scaffolding, BOS).
/// <c>Labels[0]</c> is always <see cref="CausalLmLoss.IgnoreIndex"/>: no position predicts the first token, and in a packed
/// sequence this keeps one example's last logits from being trained on the next example's first token.</para>
/// </remarks>
/// <param name="InputIds">Token ids, BOS and EOS included.</param>
/// <param name="Labels">Same length as <paramref name="InputIds"/>; <see cref="CausalLmLoss.IgnoreIndex"/> where no loss is taken.</param>
/// <param name="Truncated">Whether <see cref="SftDataOptions.MaxLength"/> cut tokens from this example.</param>
public sealed record SftExample(int[] InputIds, int[] Labels, bool Truncated)
{

    /// <summary>Number of tokens.</summary>
    public int Length => InputIds.Length;

    /// <summary>Positions whose label is a token id, i.e. tokens the model is trained to produce.</summary>
    public int SupervisedTokenCount => Labels.Count(l => l != CausalLmLoss.IgnoreIndex);

    /// <summary>This example as a one-document sequence: positions 0..n-1, document id 0 everywhere.</summary>
    public SftSequence ToSequence() =>
        new(InputIds, Labels, Enumerable.Range(0, Length).ToArray(), new int[Length]);
}
