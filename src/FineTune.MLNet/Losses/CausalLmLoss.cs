using static TorchSharp.torch;

namespace FineTune.MLNet.Losses;

/// <summary>
/// Next-token cross-entropy of a causal LM with HF's label convention: labels are aligned with the inputs and shifted
/// here (position t predicts label t+1); <c>-100</c> marks positions without loss (prompt, padding).
/// </summary>
public static class CausalLmLoss
{
    /// <summary>The label of positions without loss (prompt, padding): HF's and PyTorch's <c>ignore_index</c>.</summary>
    public const int IgnoreIndex = -100;

    /// <summary>Summed negative log-likelihood and the number of supervised tokens.</summary>
    /// <param name="logits">(B, T, V).</param>
    /// <param name="labels">(B, T) int64.</param>
    /// <returns>A scalar sum (in the caller's scope) and the count of labels ≠ -100 after the shift.</returns>
    public static (Tensor Sum, Tensor Count) SumNll(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        long v = logits.shape[2];
        var predicted = logits[.., ..^1, ..].reshape(-1, v);                 // (B·(T−1), V)
        var target = labels[.., 1..].reshape(-1);                            // (B·(T−1))
        var sum = nn.functional.cross_entropy(predicted.to(ScalarType.Float32), target, ignore_index: IgnoreIndex, reduction: nn.Reduction.Sum);
        var count = target.ne(IgnoreIndex).sum();
        return (sum.MoveToOuterDisposeScope(), count.MoveToOuterDisposeScope());
    }

    /// <summary>Tokens per chunk of <see cref="SumNllChunked"/>: at a 32k vocabulary one chunk's float32 logits are 128 MB.</summary>
    public const int DefaultChunkTokens = 1024;

    /// <summary>
    /// <see cref="SumNll"/> of <c>logits = hidden · headWeightᵀ</c> without ever holding the (tokens × vocabulary)
    /// logits: only the supervised positions are scored, in chunks of <paramref name="chunkTokens"/>, each chunk's
    /// logits freed before the next (<see cref="FusedLinearCrossEntropy"/>). Same sum and gradients as <see cref="SumNll"/>
    /// of the full logits (to float rounding).
    /// </summary>
    /// <param name="hidden">(B, T, C) final-norm states.</param>
    /// <param name="headWeight">(V, C) output head (the embedding table when tied).</param>
    /// <param name="labels">(B, T) int64.</param>
    public static (Tensor Sum, Tensor Count) SumNllChunked(Tensor hidden, Tensor headWeight, Tensor labels, int chunkTokens = DefaultChunkTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkTokens, 1);
        using var scope = NewDisposeScope();
        long c = hidden.shape[2];
        var states = hidden[.., ..^1, ..].reshape(-1, c);                   // (B·(T−1), C)
        var target = labels[.., 1..].reshape(-1);                            // (B·(T−1))
        var scored = target.ne(IgnoreIndex);                                 // (B·(T−1))
        var rows = scored.nonzero().squeeze(1);                              // (N)
        var sum = FusedLinearCrossEntropy.SumNll(states.index_select(0, rows), headWeight, target.index_select(0, rows), chunkTokens);
        return (sum.MoveToOuterDisposeScope(), scored.sum().MoveToOuterDisposeScope());
    }

    /// <summary>Mean NLL over supervised tokens (0 with a gradient path when a batch has none).</summary>
    public static Tensor MeanNll(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var (sum, count) = SumNll(logits, labels);
        return sum.div(count.clamp_min(1).to(sum.dtype)).MoveToOuterDisposeScope();
    }
}
