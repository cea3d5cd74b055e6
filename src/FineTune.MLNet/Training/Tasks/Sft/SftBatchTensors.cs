using static TorchSharp.torch;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>The int64 <c>(B, T)</c> tensors of an <see cref="SftBatch"/>; disposing disposes them.</summary>
public sealed class SftBatchTensors : IDisposable
{
    internal SftBatchTensors(Tensor inputIds, Tensor labels, Tensor attentionMask, Tensor positionIds)
    {
        InputIds = inputIds;
        Labels = labels;
        AttentionMask = attentionMask;
        PositionIds = positionIds;
    }

    /// <summary>Token ids, (B, T) int64.</summary>
    public Tensor InputIds { get; }

    /// <summary>Labels aligned with the ids, -100 where no loss is taken, (B, T) int64.</summary>
    public Tensor Labels { get; }

    /// <summary>1 for tokens, 0 for padding, (B, T) int64.</summary>
    public Tensor AttentionMask { get; }

    /// <summary>Positions restarting per packed example, (B, T) int64.</summary>
    public Tensor PositionIds { get; }

    public void Dispose()
    {
        InputIds.Dispose();
        Labels.Dispose();
        AttentionMask.Dispose();
        PositionIds.Dispose();
    }
}
