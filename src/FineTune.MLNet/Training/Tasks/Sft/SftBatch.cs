using FineTune.MLNet.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// A padded batch from <see cref="SftCollator"/>: row-major <c>(B, T)</c> arrays of <see cref="BatchSize"/> rows
/// and <see cref="SequenceLength"/> columns.
/// </summary>
/// <param name="BatchSize">B.</param>
/// <param name="SequenceLength">T.</param>
/// <param name="InputIds">Token ids, pad id in padding.</param>
/// <param name="Labels">Labels aligned with the ids (the loss shifts by one); <see cref="CausalLmLoss.IgnoreIndex"/> in padding.</param>
/// <param name="AttentionMask">1 for tokens, 0 for padding.</param>
/// <param name="PositionIds">Position of each token inside its example (restarting per packed example); 0 in padding.</param>
/// <param name="DocumentIds">Example index inside the row (<see cref="SftSequence"/>); -1 in padding.</param>
public sealed record SftBatch(
    int BatchSize,
    int SequenceLength,
    long[] InputIds,
    long[] Labels,
    long[] AttentionMask,
    long[] PositionIds,
    long[] DocumentIds)
{
    /// <summary>Labels that carry loss after the causal shift (<c>Labels[b, t]</c> for t &gt;= 1, not ignored): the
    /// token count to normalise a summed loss by.</summary>
    public long SupervisedTokenCount
    {
        get
        {
            long n = 0;
            for (int b = 0; b < BatchSize; b++)
                for (int t = 1; t < SequenceLength; t++)
                    if (Labels[b * SequenceLength + t] != CausalLmLoss.IgnoreIndex) n++;
            return n;
        }
    }

    /// <summary>The batch as int64 tensors of shape <c>(B, T)</c> on <paramref name="device"/> (CPU by default).</summary>
    public SftBatchTensors ToTensors(Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var target = device ?? torch.CPU;
        long[] shape = [BatchSize, SequenceLength];
        var ids = torch.tensor(InputIds, shape, ScalarType.Int64).to(target);          // (B, T)
        var labels = torch.tensor(Labels, shape, ScalarType.Int64).to(target);         // (B, T)
        var mask = torch.tensor(AttentionMask, shape, ScalarType.Int64).to(target);    // (B, T)
        var positions = torch.tensor(PositionIds, shape, ScalarType.Int64).to(target); // (B, T)
        return new SftBatchTensors(ids.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(),
            mask.MoveToOuterDisposeScope(), positions.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The block-diagonal causal attention of the batch as a Boolean tensor <c>(B, 1, T, T)</c>: <c>[b, 0, i, j]</c>
    /// is true iff query <c>i</c> may attend to key <c>j</c>, i.e. <c>j &lt;= i</c> and both belong to the same
    /// example (document id). Padding forms its own block, so its rows are never fully masked (no NaN in softmax)
    /// and real tokens never attend to it. Usable as <c>scaled_dot_product_attention</c>'s <c>attn_mask</c>.
    /// </summary>
    public Tensor CreateBlockCausalMask(Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var target = device ?? torch.CPU;
        var documents = torch.tensor(DocumentIds, [BatchSize, SequenceLength], ScalarType.Int64).to(target); // (B, T)
        var sameDocument = documents.unsqueeze(2).eq(documents.unsqueeze(1));                              // (B, T, T)
        var causal = torch.ones(SequenceLength, SequenceLength, ScalarType.Bool, target).tril();          // (T, T)
        return sameDocument.logical_and(causal).unsqueeze(1).MoveToOuterDisposeScope();                   // (B, 1, T, T)
    }
}
