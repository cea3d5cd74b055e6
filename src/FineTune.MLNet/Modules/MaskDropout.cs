using static TorchSharp.torch;

namespace FineTune.MLNet.Modules;

/// <summary>
/// Inverted dropout with the same distribution as <c>torch.nn.functional.dropout</c> (keep each element with
/// probability 1 − p, scale kept ones by 1 / (1 − p)) at a fraction of its CPU cost. On CPU the cost is the random
/// numbers: libtorch draws them serially (one core, ~4 ns each), so a (16, 128, 384) activation's mask takes longer
/// than the adapter's matmuls. Here the mask is <c>uniform_</c> draws compared in place (u ≥ p keeps: exactly
/// probability 1 − p) and pre-scaled, then one multiply (libtorch's dropout draws Bernoulli values, divides and
/// multiplies, with a slower generator); on CPU, tensors of at least <see cref="ChunkElements"/> elements are drawn in
/// fixed chunks of that size, in parallel, each from its own generator seeded from the default generator. The chunking
/// does not depend on the machine's core count, so a seed gives the same mask everywhere, and
/// <c>manual_seed</c> / <c>set_rng_state</c> (checkpoint replay, resume) reproduce it.
/// Returns the input itself when p is 0 or when not training, so a p = 0 adapter costs nothing.
/// </summary>
public static class MaskDropout
{
    /// <summary>Elements per independently seeded chunk of a CPU mask.</summary>
    public const int ChunkElements = 1 << 16;

    /// <param name="x">Any shape.</param>
    /// <param name="p">Drop probability in [0, 1).</param>
    /// <param name="training">False: identity.</param>
    public static Tensor Apply(Tensor x, double p, bool training)
    {
        if (!training || p == 0) return x;
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var mask = Uniform(x).ge_(p).mul_(1.0 / (1.0 - p));   // (same as x): 0 or 1/(1-p)
        noGrad.Dispose();
        return x.mul(mask).MoveToOuterDisposeScope();             // gradient: g ⊙ mask
    }

    /// <summary>U[0, 1) draws shaped like <paramref name="x"/>; CPU tensors above one chunk are drawn in parallel chunks.</summary>
    private static Tensor Uniform(Tensor x)
    {
        var n = x.numel();
        if (x.device_type != TorchSharp.DeviceType.CPU || n < 2 * ChunkElements) return rand_like(x);
        var chunks = (int)((n + ChunkElements - 1) / ChunkElements);
        var seeds = randint(long.MaxValue, [chunks], dtype: ScalarType.Int64).data<long>().ToArray();  // from the default generator
        var u = empty(x.shape, dtype: x.dtype, device: x.device);                       // (same as x)
        var flat = u.view(-1);                                                                          // (N)
        Parallel.For(0, chunks, i =>
        {
            long start = (long)i * ChunkElements, length = Math.Min(ChunkElements, n - start);
            using var generator = new Generator((ulong)seeds[i], x.device);
            using var part = flat.narrow(0, start, length);                                            // (length), a view
            part.uniform_(0, 1, generator);
        });
        return u;
    }
}
