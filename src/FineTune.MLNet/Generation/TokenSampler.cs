using static TorchSharp.torch;

namespace FineTune.MLNet.Generation;

/// <summary>
/// Picks the next token from last-position logits: argmax, or HF's sampling pipeline
/// (<c>TemperatureLogitsWarper</c>, <c>TopKLogitsWarper</c>, <c>TopPLogitsWarper</c>, then <c>multinomial</c>).
/// </summary>
public static class TokenSampler
{
    /// <param name="logits">(B, V) float.</param>
    /// <param name="generator">Random generator for sampling (on the logits' device); unused for greedy.</param>
    /// <returns>(B) int64 next ids.</returns>
    public static Tensor Next(Tensor logits, GenerationOptions options, Generator? generator)
    {
        using var scope = NewDisposeScope();
        if (!options.DoSample) return logits.argmax(-1).MoveToOuterDisposeScope();
        var probs = Filter(logits, options).softmax(-1);                                 // (B, V)
        return multinomial(probs, 1, generator: generator).squeeze(-1).MoveToOuterDisposeScope();   // (B)
    }

    /// <summary>The warped logits (B, V): temperature, top-k, top-p; removed tokens are −inf.</summary>
    public static Tensor Filter(Tensor logits, GenerationOptions options)
    {
        using var scope = NewDisposeScope();
        var x = logits.to_type(ScalarType.Float32);
        if (options.Temperature != 1.0) x = x.div(options.Temperature);
        long vocab = x.shape[^1];
        if (options.TopK > 0 && options.TopK < vocab)
        {
            var kth = x.topk(options.TopK, dim: -1).values.narrow(-1, options.TopK - 1, 1);   // (B, 1)
            x = x.masked_fill(x.lt(kth), double.NegativeInfinity);
        }
        if (options.TopP < 1.0)
        {
            var (sorted, indices) = x.sort(-1, descending: false);                          // (B, V) ascending
            var cumulative = sorted.softmax(-1).cumsum(-1);                                 // (B, V)
            var remove = cumulative.le(1 - options.TopP);
            remove.index_put_(tensor(false), TensorIndex.Ellipsis, TensorIndex.Single(-1));   // keep at least one token
            var removeOriginal = remove.scatter(-1, indices, remove);
            x = x.masked_fill(removeOriginal, double.NegativeInfinity);
        }
        return x.MoveToOuterDisposeScope();
    }
}
