using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tokenization;

/// <summary>
/// A padded batch of encoded inputs. The arrays are flattened row-major with shape
/// (<see cref="BatchSize"/>, <see cref="SequenceLength"/>): element [b, t] is at index <c>b * SequenceLength + t</c>.
/// Padding positions hold the pad id in <see cref="InputIds"/> and 0 in <see cref="AttentionMask"/> and <see cref="TokenTypeIds"/>.
/// </summary>
public sealed record EncodedBatch(
    long[] InputIds,
    long[] AttentionMask,
    long[] TokenTypeIds,
    int BatchSize,
    int SequenceLength)
{
    /// <summary>Number of non-padding tokens in row <paramref name="row"/>.</summary>
    public int RowLength(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, BatchSize);
        int length = 0;
        for (int t = 0; t < SequenceLength; t++)
        {
            length += (int)AttentionMask[row * SequenceLength + t];
        }

        return length;
    }

    /// <summary>
    /// Copies the batch into three int64 tensors of shape (B, T) on <paramref name="device"/> (CPU when null),
    /// named like the Hugging Face model inputs. The caller owns (disposes) them.
    /// </summary>
    public (Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds) ToTensors(Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var target = device ?? torch.CPU;
        long[] shape = [BatchSize, SequenceLength];
        var inputIds = torch.tensor(InputIds, shape, ScalarType.Int64).to(target);           // (B, T)
        var attentionMask = torch.tensor(AttentionMask, shape, ScalarType.Int64).to(target); // (B, T)
        var tokenTypeIds = torch.tensor(TokenTypeIds, shape, ScalarType.Int64).to(target);   // (B, T)
        return (inputIds.MoveToOuterDisposeScope(), attentionMask.MoveToOuterDisposeScope(), tokenTypeIds.MoveToOuterDisposeScope());
    }
}
