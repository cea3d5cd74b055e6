using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Quantization;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Quantization;

public class Nf4TensorTests
{
    // Largest gap between adjacent NF4 codes: -0.6961928 - (-1.0) = 0.3038 (the positive side's widest is 0.2770).
    private const double HalfLargestGap = (1.0 - 0.6961928009986877) / 2;

    private readonly ITestOutputHelper _output;

    public Nf4TensorTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("gaussian_260x67")]
    [InlineData("odd_5x13")]
    public void MatchesNumpyReference(string caseName)
    {
        using var scope = NewDisposeScope();
        var c = Nf4Fixtures.Reference().GetProperty("cases").GetProperty(caseName);
        var shape = Nf4Fixtures.Longs(c.GetProperty("shape"));
        var weight = Nf4Fixtures.Weight(caseName, shape);

        using var q = Nf4Tensor.Quantize(weight);

        Assert.Equal(c.GetProperty("packed_codes_hex").GetString(), Convert.ToHexStringLower(q.PackedCodes.data<byte>().ToArray()));
        Assert.Equal(Nf4Fixtures.Bytes(c.GetProperty("absmax_codes")), q.AbsmaxCodes.data<byte>().ToArray());
        AssertClose(Nf4Fixtures.Floats(c.GetProperty("absmax_scales")), q.AbsmaxScales.data<float>().ToArray(), 1e-6, "absmax scales");
        AssertClose([c.GetProperty("absmax_offset").GetSingle()], q.AbsmaxOffset.data<float>().ToArray(), 1e-6, "absmax offset");
        AssertClose(Nf4Fixtures.Floats(c.GetProperty("absmax_dequantized")), q.DequantizeAbsmax().data<float>().ToArray(), 1e-6, "dequantized absmax");

        var dequantized = q.Dequantize();
        Assert.Equal(shape, dequantized.shape);
        AssertClose(Nf4Fixtures.ReadFloat32($"{caseName}.dequantized.f32"), dequantized.data<float>().ToArray(), 1e-6, "dequantized weight");
    }

    [Fact]
    public void PacksFirstElementInHighNibble()
    {
        using var scope = NewDisposeScope();
        // One block, absmax 0.5: element values are code values * 0.5, so the codes are known.
        int[] codes = [0, 15, 7, 8, 3, 12];
        var values = new float[64];
        for (int i = 0; i < codes.Length; i++)
        {
            values[i] = Nf4Codebook.Values[codes[i]] * 0.5f;
        }
        using var q = Nf4Tensor.Quantize(tensor(values).view(1, 64));

        var packed = q.PackedCodes.data<byte>().ToArray();
        Assert.Equal(32, packed.Length);
        Assert.Equal(0x0F, packed[0]); // elements 0, 1: codes 0 and 15
        Assert.Equal(0x78, packed[1]); // elements 2, 3: codes 7 and 8
        Assert.Equal(0x3C, packed[2]); // elements 4, 5: codes 3 and 12
        Assert.All(packed.Skip(3), b => Assert.Equal(0x77, b)); // zeros: code 7 in both nibbles
    }

    [Fact]
    public void ValuesThatAreCodeTimesAbsmaxRoundTripExactly()
    {
        using var scope = NewDisposeScope();
        // 4 blocks, each cycling through all 16 codes scaled by 0.25 (every block's absmax is 0.25, so the
        // double-quantized absmax is exact too: the centered values are all zero).
        var values = new float[256];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Nf4Codebook.Values[(i * 7) % 16] * 0.25f;
        }
        var weight = tensor(values).view(4, 64);
        using var q = Nf4Tensor.Quantize(weight);
        Assert.Equal(values, q.Dequantize().data<float>().ToArray());
    }

    [Fact]
    public void AllZeroTensorAndZeroBlocksDequantizeToZero()
    {
        using var scope = NewDisposeScope();
        using var allZero = Nf4Tensor.Quantize(zeros(3, 64));
        Assert.All(allZero.PackedCodes.data<byte>().ToArray(), b => Assert.Equal(0x77, b));
        Assert.All(allZero.Dequantize().data<float>().ToArray(), v => Assert.Equal(0f, v));

        var weight = randn(4, 64, generator: new Generator(7));
        weight[2].zero_();
        using var q = Nf4Tensor.Quantize(weight);
        var restored = q.Dequantize();
        Assert.All(restored[2].data<float>().ToArray(), v => Assert.Equal(0f, v));
        Assert.True(restored[1].abs().sum().item<float>() > 0);
    }

    [Theory]
    [InlineData(3, 50)] // 150: last block of 22, even
    [InlineData(7, 9)] // 63: a single partial block, odd
    [InlineData(1, 1)]
    [InlineData(129, 65)] // 8385: 132 blocks, odd
    public void PadsSizesThatAreNotMultiplesOf64(long rows, long cols)
    {
        using var scope = NewDisposeScope();
        var weight = randn(rows, cols, generator: new Generator(11));
        using var q = Nf4Tensor.Quantize(weight);
        long n = rows * cols;

        Assert.Equal((n + 1) / 2, q.PackedCodes.shape[0]);
        Assert.Equal((n + 63) / 64, q.AbsmaxCodes.shape[0]);
        var restored = q.Dequantize();
        Assert.Equal(new[] { rows, cols }, restored.shape);
        AssertWithinNf4Bound(weight, restored, q);
    }

    [Fact]
    public void GaussianRoundTripErrorIsWithinBound()
    {
        using var scope = NewDisposeScope();
        var weight = randn(256, 1024, generator: new Generator(1234));
        using var q = Nf4Tensor.Quantize(weight);
        var restored = q.Dequantize();
        AssertWithinNf4Bound(weight, restored, q);

        var error = (restored - weight).abs();
        double meanAbsError = error.mean().item<float>();
        double normalizedMeanError = meanAbsError / weight.abs().mean().item<float>();
        double relativeFrobenius = (restored - weight).norm().item<float>() / weight.norm().item<float>();
        _output.WriteLine($"N(0,1) 256x1024: mean |err| = {meanAbsError:F5}, mean|err|/mean|w| = {normalizedMeanError:F4}, " +
            $"||err||/||w|| = {relativeFrobenius:F4}");
        // Measured 0.0910 and 0.0919 (seed 1234): NF4 with 64-blocks sits near 0.09 for Gaussian weights.
        Assert.InRange(normalizedMeanError, 0.07, 0.12);
        Assert.InRange(relativeFrobenius, 0.07, 0.12);
    }

    [Fact]
    public void DoubleQuantizedAbsmaxIsWithinOnePercent()
    {
        using var scope = NewDisposeScope();
        var weight = randn(512, 1024, generator: new Generator(99)); // 8192 blocks, 32 second-level blocks
        using var q = Nf4Tensor.Quantize(weight);
        var trueAbsmax = weight.reshape(-1, 64).abs().amax(1);
        var relative = ((q.DequantizeAbsmax() - trueAbsmax).abs() / trueAbsmax);
        double max = relative.max().item<float>();
        double mean = relative.mean().item<float>();
        _output.WriteLine($"double-quantized absmax relative error: max {max:E3}, mean {mean:E3}");
        Assert.True(max < 0.01, $"max relative absmax error {max}");
        Assert.True(mean < 0.003, $"mean relative absmax error {mean}");
    }

    [Fact]
    public void StorageIsAboutHalfAByteFor4096Square()
    {
        using var scope = NewDisposeScope();
        var weight = randn(4096, 4096, generator: new Generator(5));
        using var q = Nf4Tensor.Quantize(weight);

        long held = q.PackedCodes.numel() * q.PackedCodes.ElementSize
            + q.AbsmaxCodes.numel() * q.AbsmaxCodes.ElementSize
            + q.AbsmaxScales.numel() * q.AbsmaxScales.ElementSize
            + q.AbsmaxOffset.numel() * q.AbsmaxOffset.ElementSize;
        Assert.Equal(held, q.StorageBytes);
        // 8388608 code bytes + 262144 absmax codes + 1024 * 4 scale bytes + 4 offset bytes.
        Assert.Equal(8_654_852L, q.StorageBytes);
        Assert.InRange(q.BytesPerParameter, 0.50, 0.54);
        Assert.Equal(8_654_852.0 / (4096 * 4096), q.BytesPerParameter);   // one exact division: bit-identical
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void RejectsNonFiniteWeights(float bad)
    {
        using var scope = NewDisposeScope();
        var weight = randn(8, 16);
        weight[3, 5] = tensor(bad);
        var error = Assert.Throws<ArgumentException>(() => Nf4Tensor.Quantize(weight));
        Assert.Contains("non-finite", error.Message);
        Assert.Contains("[8, 16]", error.Message);
    }

    [Fact]
    public void RejectsIntegerWeights()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => Nf4Tensor.Quantize(ones(4, 4, ScalarType.Int32)));
    }

    [Fact]
    public void DequantizesToRequestedDtype()
    {
        using var scope = NewDisposeScope();
        var weight = randn(16, 64, generator: new Generator(3));
        using var q = Nf4Tensor.Quantize(weight);
        var asFloat = q.Dequantize();
        var asBf16 = q.Dequantize(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, asBf16.dtype);
        Assert.True(Nf4Fixtures.Same(asFloat.to(ScalarType.BFloat16), asBf16));
    }

    [Fact]
    public void QuantizesHalfPrecisionInputLikeItsFloat32Value()
    {
        using var scope = NewDisposeScope();
        var weight = randn(8, 64, generator: new Generator(4)).to(ScalarType.BFloat16);
        using var fromBf16 = Nf4Tensor.Quantize(weight);
        using var fromFloat = Nf4Tensor.Quantize(weight.to(ScalarType.Float32));
        Assert.True(Nf4Fixtures.Same(fromBf16.PackedCodes, fromFloat.PackedCodes));
        Assert.True(Nf4Fixtures.Same(fromBf16.AbsmaxCodes, fromFloat.AbsmaxCodes));
    }

    [Fact]
    public void ConstructorRejectsStorageOfTheWrongSize()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => new Nf4Tensor(
            zeros(31, ScalarType.Byte), zeros(1, ScalarType.Byte), zeros(1), zeros(1), [1, 64]));
        Assert.Contains("packed codes", error.Message);
        Assert.Contains("32", error.Message);
        Assert.Throws<ArgumentException>(() => new Nf4Tensor(
            zeros(32, ScalarType.Byte), zeros(1, ScalarType.Byte), zeros(1, ScalarType.Float64), zeros(1), [1, 64]));
    }

    [Fact]
    public void DoesNotModifyTheInput()
    {
        using var scope = NewDisposeScope();
        var weight = randn(4, 100, generator: new Generator(8));
        var copy = weight.clone();
        using var q = Nf4Tensor.Quantize(weight);
        Assert.True(Nf4Fixtures.Same(weight, copy));
    }

    /// <summary>
    /// Each element's error is at most half the widest code gap times its block's true absmax, plus the error of the
    /// double-quantized absmax (|code| &lt;= 1).
    /// </summary>
    private static void AssertWithinNf4Bound(Tensor weight, Tensor restored, Nf4Tensor q)
    {
        using var scope = NewDisposeScope();
        long n = weight.numel();
        long blocks = (n + 63) / 64;
        var flat = nn.functional.pad(weight.reshape(-1), [0, blocks * 64 - n]).view(blocks, 64); // (blocks, 64)
        var trueAbsmax = flat.abs().amax(1); // (blocks)
        var absmaxError = (q.DequantizeAbsmax() - trueAbsmax).abs(); // (blocks)
        var bound = (trueAbsmax * HalfLargestGap + absmaxError) * (1 + 1e-6) + 1e-7; // (blocks)
        var error = nn.functional.pad((restored - weight).abs().reshape(-1), [0, blocks * 64 - n]).view(blocks, 64);
        var excess = (error - bound.unsqueeze(1)).max().item<float>();
        Assert.True(excess <= 0, $"an element's NF4 error exceeds its bound by {excess}");
    }

    private static void AssertClose(float[] expected, float[] actual, double relativeTolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = relativeTolerance * Math.Max(Math.Abs(expected[i]), 1e-6);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }
}
