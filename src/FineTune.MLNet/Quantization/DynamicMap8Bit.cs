using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Quantization;

/// <summary>
/// bitsandbytes' signed 8-bit "dynamic" code (<c>functional.create_dynamic_map(signed=True, max_exponent_bits=7,
/// total_bits=8)</c>, from Dettmers 2015, arXiv:1511.04561): 256 sorted values in [-1, 1], with a decimal exponent
/// <c>10^(i-6)</c>, i = 0..6, and <c>2^i</c> linear fraction steps per exponent, plus 0 and 1. bitsandbytes uses it
/// to quantize the NF4 block scales ("double quantization", <c>compress_statistics=True</c>).
/// </summary>
/// <remarks>
/// Built with the same float32 torch operations as bitsandbytes (<c>linspace(0.1, 1, n)</c>, pairwise means,
/// times the decimal scale) so the values are bit-identical to bitsandbytes' on the same libtorch.
/// </remarks>
internal static class DynamicMap8Bit
{
    public const int Count = 256;

    private const int MaxExponentBits = 7;

    private static readonly Lazy<float[]> s_values = new(Build);

    /// <summary>The 256 code values, ascending; index = 8-bit code.</summary>
    public static IReadOnlyList<float> Values => s_values.Value;

    /// <summary>The map as a float32 tensor of shape (256).</summary>
    public static Tensor AsTensor(Device? device = null) => tensor(s_values.Value, device: device);

    /// <summary>Decision boundaries between adjacent codes, shape (255), for a nearest-code <c>bucketize</c>.</summary>
    public static Tensor Midpoints(Device? device = null)
    {
        var values = s_values.Value;
        var mids = new float[Count - 1];
        for (int k = 0; k < mids.Length; k++)
        {
            mids[k] = (values[k] + values[k + 1]) / 2f;
        }
        return tensor(mids, device: device);
    }

    private static float[] Build()
    {
        using var scope = NewDisposeScope();
        var data = new List<float>(Count);
        for (int i = 0; i < MaxExponentBits; i++)
        {
            long fractionItems = (1L << i) + 1; // signed: 2^(i + 7 - 7) + 1
            var boundaries = linspace(0.1, 1.0, fractionItems, dtype: ScalarType.Float32); // (2^i + 1)
            var means = (boundaries.narrow(0, 0, fractionItems - 1) + boundaries.narrow(0, 1, fractionItems - 1)) / 2.0; // (2^i)
            double decimalScale = Math.Pow(10, -(MaxExponentBits - 1) + i);
            data.AddRange((means * decimalScale).data<float>().ToArray());
            data.AddRange((means * -decimalScale).data<float>().ToArray());
        }
        data.Add(0f);
        data.Add(1f);
        if (data.Count != Count)
        {
            throw new InvalidOperationException($"DynamicMap8Bit: built {data.Count} values, expected {Count}.");
        }
        data.Sort();
        return data.ToArray();
    }
}
