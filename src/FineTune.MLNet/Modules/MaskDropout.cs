using static TorchSharp.torch;

namespace FineTune.MLNet.Modules;

/// <summary>
/// Inverted dropout with the same distribution as <c>torch.nn.functional.dropout</c> (keep each element with
/// probability 1 − p, scale kept ones by 1 / (1 − p)) but about twice as fast on CPU: the mask is one
/// <c>rand_like</c> compared in place (uniform u ≥ p keeps, exactly probability 1 − p) and pre-scaled, then one multiply.
/// libtorch's CPU dropout draws a Bernoulli tensor, divides it and multiplies (three passes, a slower generator).
/// Returns the input itself when p is 0 or when not training, so a p = 0 adapter costs nothing.
/// </summary>
public static class MaskDropout
{
    /// <param name="x">Any shape.</param>
    /// <param name="p">Drop probability in [0, 1).</param>
    /// <param name="training">False: identity.</param>
    public static Tensor Apply(Tensor x, double p, bool training)
    {
        if (!training || p == 0) return x;
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var mask = rand_like(x).ge_(p).mul_(1.0 / (1.0 - p));   // (same as x): 0 or 1/(1-p)
        noGrad.Dispose();
        return x.mul(mask).MoveToOuterDisposeScope();             // gradient: g ⊙ mask
    }
}
