using FineTune.MLNet.Quantization;
using Xunit;

namespace FineTune.MLNet.Tests.Quantization;

public class Nf4CodebookTests
{
    // bitsandbytes functional.py get_4bit_type("nf4"), as double literals.
    private static readonly double[] s_bitsandbytesNf4 =
    [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
        -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
        0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
        0.7229568362236023, 1.0,
    ];

    [Fact]
    public void ValuesAreExactlyBitsandbytesNf4()
    {
        Assert.Equal(16, Nf4Codebook.Values.Count);
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal((float)s_bitsandbytesNf4[i], Nf4Codebook.Values[i]);
            // The bnb literals are float32 values printed in full: they survive the float cast unchanged.
            Assert.Equal(s_bitsandbytesNf4[i], (double)Nf4Codebook.Values[i]);
        }
    }

    [Fact]
    public void ValuesAreSortedWithUnitEndsAndExactZero()
    {
        var v = Nf4Codebook.Values;
        for (int i = 1; i < v.Count; i++)
        {
            Assert.True(v[i] > v[i - 1], $"code {i} ({v[i]}) is not above code {i - 1} ({v[i - 1]})");
        }
        Assert.Equal(-1f, v[0]);
        Assert.Equal(1f, v[15]);
        Assert.Equal(0f, v[Nf4Codebook.ZeroCode]);
        Assert.Equal(7, v.Count(x => x < 0));
        Assert.Equal(8, v.Count(x => x > 0));
    }

    [Fact]
    public void TensorMatchesValues()
    {
        using var t = Nf4Codebook.AsTensor();
        Assert.Equal(new long[] { 16 }, t.shape);
        Assert.Equal(Nf4Codebook.Values.ToArray(), t.data<float>().ToArray());
    }

    [Fact]
    public void DynamicMapMatchesNumpyReference()
    {
        var expected = Nf4Fixtures.Floats(Nf4Fixtures.Reference().GetProperty("dynamic_map"));
        var actual = DynamicMap8Bit.Values;
        Assert.Equal(256, expected.Length);
        Assert.Equal(256, actual.Count);
        for (int i = 0; i < 256; i++)
        {
            // numpy's float64 linspace vs torch's float32 one may differ in the last bit.
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-7 * Math.Max(Math.Abs(expected[i]), 1e-6),
                $"dynamic map [{i}]: expected {expected[i]}, got {actual[i]}");
        }
        for (int i = 1; i < 256; i++)
        {
            Assert.True(actual[i] > actual[i - 1], $"dynamic map not strictly ascending at {i}");
        }
        Assert.Equal(1f, actual[255]);
        Assert.Contains(0f, actual);
    }
}
