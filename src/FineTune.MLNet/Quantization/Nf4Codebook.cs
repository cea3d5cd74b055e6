using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Quantization;

/// <summary>
/// The 16 values of the 4-bit NormalFloat (NF4) data type from QLoRA (Dettmers et al. 2023, arXiv:2305.14314),
/// exactly as bitsandbytes defines them (<c>bitsandbytes/functional.py</c>, <c>get_4bit_type("nf4")</c>, and the
/// <c>dDequantizeNF4</c> table of its CUDA kernels). Index <c>i</c> is the 4-bit code of the value.
/// </summary>
/// <remarks>
/// The values are normal-distribution quantiles normalized to [-1, 1]: 7 negative, an exact zero, 8 positive
/// (asymmetric so that zero is representable). A weight block is stored as <c>code * absmax</c>.
/// </remarks>
public static class Nf4Codebook
{
    /// <summary>Number of codes (4 bits).</summary>
    public const int Count = 16;

    /// <summary>The code whose value is exactly 0.0.</summary>
    public const int ZeroCode = 7;

    private static readonly float[] s_values =
    [
        -1.0f,
        -0.6961928009986877f,
        -0.5250730514526367f,
        -0.39491748809814453f,
        -0.28444138169288635f,
        -0.18477343022823334f,
        -0.09105003625154495f,
        0.0f,
        0.07958029955625534f,
        0.16093020141124725f,
        0.24611230194568634f,
        0.33791524171829224f,
        0.44070982933044434f,
        0.5626170039176941f,
        0.7229568362236023f,
        1.0f,
    ];

    /// <summary>The 16 code values, ascending; index = 4-bit code.</summary>
    public static IReadOnlyList<float> Values => s_values;

    /// <summary>The codebook as a float32 tensor of shape (16) on <paramref name="device"/>.</summary>
    public static Tensor AsTensor(Device? device = null) => tensor(s_values, device: device);

    /// <summary>
    /// Decision boundaries between adjacent codes, shape (15): midpoints <c>(v[k] + v[k+1]) / 2</c> in float32.
    /// <c>bucketize(x, Midpoints)</c> gives the nearest code, a tie going to the lower code, as bitsandbytes does.
    /// </summary>
    internal static Tensor Midpoints(Device? device = null)
    {
        var mids = new float[Count - 1];
        for (int k = 0; k < mids.Length; k++)
        {
            mids[k] = (s_values[k] + s_values[k + 1]) / 2f;
        }
        return tensor(mids, device: device);
    }

    /// <summary>
    /// Lookup table of shape (256, 2): for a packed byte <c>b</c>, row <c>b</c> holds the values of its high-nibble
    /// code (first element) and its low-nibble code (second element). Lets dequantization be one gather.
    /// </summary>
    internal static Tensor PackedPairTable(Device? device = null)
    {
        var table = new float[256 * 2];
        for (int b = 0; b < 256; b++)
        {
            table[2 * b] = s_values[b >> 4];
            table[2 * b + 1] = s_values[b & 0xF];
        }
        return tensor(table, device: device).view(256, 2); // (256, 2)
    }
}
