using FineTune.MLNet.Losses;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// A training row for the collator: one example (<see cref="SftExample.ToSequence"/>) or several packed together
/// (<see cref="SftPacker"/>).
/// </summary>
/// <remarks>
/// Packing representation (as torchtune's <c>PackedDataset</c> and flash-attention's varlen inputs): the examples
/// are laid end to end; <see cref="PositionIds"/> restart at 0 at the first token of each example, and
/// <see cref="DocumentIds"/> number the examples 0, 1, 2, ... within the row. The attention this describes is
/// block-diagonal causal: token <c>i</c> may attend to token <c>j</c> iff <c>j &lt;= i</c> and
/// <c>DocumentIds[j] == DocumentIds[i]</c> (<see cref="SftBatch.CreateBlockCausalMask"/> builds it). The collator
/// gives padding document id <c>-1</c>, so real tokens never see padding.
/// </remarks>
/// <param name="InputIds">Token ids.</param>
/// <param name="Labels">Aligned labels, <see cref="CausalLmLoss.IgnoreIndex"/> where no loss is taken; the first
/// token of every packed example is <see cref="CausalLmLoss.IgnoreIndex"/> (no cross-example supervision).</param>
/// <param name="PositionIds">Rotary / absolute position of each token inside its own example.</param>
/// <param name="DocumentIds">Index of the example each token belongs to, from 0.</param>
public sealed record SftSequence(int[] InputIds, int[] Labels, int[] PositionIds, int[] DocumentIds)
{
    /// <summary>Number of tokens.</summary>
    public int Length => InputIds.Length;

    /// <summary>Throws unless the four arrays have the same length.</summary>
    internal void CheckShape(int index)
    {
        if (Labels.Length != Length || PositionIds.Length != Length || DocumentIds.Length != Length)
            throw new ArgumentException(
                $"sequence {index}: InputIds ({Length}), Labels ({Labels.Length}), PositionIds ({PositionIds.Length}) and DocumentIds ({DocumentIds.Length}) must have the same length.");
    }
}
