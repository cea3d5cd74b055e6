using FineTune.MLNet.Formats.HuggingFace;
namespace FineTune.MLNet.Modules;

/// <summary>
/// RoPE inverse frequencies in float32 as transformers' <c>modeling_rope_utils.py</c> computes them:
/// default <c>1 / θ^(2i/d)</c>, <c>linear</c> divides by the factor, <c>llama3</c> applies Llama 3.1's
/// wavelength-dependent scaling (<c>_compute_llama3_parameters</c>). Every step is rounded to float32 like the
/// torch float32 tensors HF uses, so angles match HF bit for bit in the common cases.
/// </summary>
public static class RopeFrequencies
{
    /// <summary>The <c>d/2</c> inverse frequencies for head width <paramref name="headDim"/>.</summary>
    public static float[] Compute(int headDim, double theta, RopeScaling? scaling = null)
    {
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(headDim), headDim, "head_dim must be a positive even number.");
        var inv = new float[headDim / 2];
        float baseF = (float)theta;
        for (int i = 0; i < inv.Length; i++)
        {
            float exponent = (float)(2 * i) / headDim;                       // arange(0, d, 2).float() / d
            inv[i] = 1f / MathF.Pow(baseF, exponent);
        }
        return scaling?.RopeType switch
        {
            null or "default" => inv,
            "linear" => [.. inv.Select(f => f / (float)scaling.Factor)],
            "llama3" => Llama3(inv, scaling),
            _ => throw new NotSupportedException($"rope_scaling.rope_type '{scaling.RopeType}' is not supported."),
        };
    }

    private static float[] Llama3(float[] inv, RopeScaling s)
    {
        float factor = (float)s.Factor, low = (float)s.LowFreqFactor, high = (float)s.HighFreqFactor;
        float oldContext = s.OriginalMaxPositionEmbeddings;
        float lowWavelen = oldContext / low, highWavelen = oldContext / high;
        var result = new float[inv.Length];
        for (int i = 0; i < inv.Length; i++)
        {
            float wavelen = (float)(2 * Math.PI) / inv[i];
            float scaled = wavelen > lowWavelen ? inv[i] / factor : inv[i];
            bool medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
            if (medium)
            {
                float smooth = (oldContext / wavelen - low) / (high - low);
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            result[i] = scaled;
        }
        return result;
    }
}
