using FineTune.MLNet.Formats.HuggingFace;
using static TorchSharp.torch;

namespace FineTune.MLNet.Modules;

/// <summary>
/// Rotary position embedding in HF's half-split layout (<c>rotate_half</c>: dims i and i + d/2 form a pair).
/// Angles <c>pos · inv_freq</c> are formed in float32 (as HF with autocast off); cos/sin are cast to the
/// activation dtype afterwards. Holds no parameters or buffers (HF's <c>inv_freq</c> is non-persistent).
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly float[] _invFreq;

    public RotaryEmbedding(int headDim, double theta, RopeScaling? scaling = null)
    {
        HeadDim = headDim;
        _invFreq = RopeFrequencies.Compute(headDim, theta, scaling);
    }

    public int HeadDim { get; }

    /// <summary>The inverse frequencies (d/2), float32.</summary>
    public IReadOnlyList<float> InverseFrequencies => _invFreq;

    /// <param name="positionIds">(B, T) int64.</param>
    /// <returns>cos and sin, each (B, 1, T, d) in <paramref name="dtype"/>, broadcastable over heads.</returns>
    public (Tensor Cos, Tensor Sin) CosSin(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var inv = tensor(_invFreq, device: positionIds.device);                                    // (d/2)
        var freqs = positionIds.to_type(ScalarType.Float32).unsqueeze(-1).mul(inv);               // (B, T, d/2)
        var emb = cat([freqs, freqs], dim: -1).unsqueeze(1);                                      // (B, 1, T, d)
        var cos = emb.cos().to_type(dtype);
        var sin = emb.sin().to_type(dtype);
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary><c>x · cos + rotate_half(x) · sin</c> for x (B, heads, T, d).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        return x.mul(cos).add(RotateHalf(x).mul(sin)).MoveToOuterDisposeScope();
    }

    /// <summary><c>cat(-x[..., d/2:], x[..., :d/2])</c>.</summary>
    public static Tensor RotateHalf(Tensor x)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        return cat([x2.neg(), x1], dim: -1).MoveToOuterDisposeScope();
    }
}
