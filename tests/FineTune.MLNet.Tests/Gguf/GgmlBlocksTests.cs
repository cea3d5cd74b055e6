using FineTune.MLNet.Formats.Gguf;
using Xunit;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary>Q8_0/Q4_0 block math on hand-checked values (gguf-py byte equality is checked on real weights in the export tests).</summary>
public sealed class GgmlBlocksTests
{
    [Fact]
    public void Q8_0_scales_by_amax_over_127_and_rounds_half_away_from_zero()
    {
        var x = new float[32];
        x[0] = 127f; x[1] = -0.5f; x[2] = 0.5f; x[3] = 1.5f; x[4] = -127f;
        var q = GgmlBlocks.QuantizeQ8_0(x);
        Assert.Equal(34, q.Length);
        Assert.Equal((Half)1f, BitConverter.ToHalf(q, 0));
        Assert.Equal([127, unchecked((byte)-1), 1, 2, unchecked((byte)-127)], q[2..7]);
        Assert.Equal([127f, -1f, 1f, 2f, -127f], GgmlBlocks.Dequantize(GgmlType.Q8_0, q, 32)[..5]);
    }

    [Fact]
    public void Q4_0_uses_the_signed_max_over_minus_8_and_packs_halves_into_nibbles()
    {
        var x = new float[32];
        x[0] = -8f;          // largest magnitude, negative: d = -8 / -8 = 1
        x[16] = 7f;          // 7/1 + 8.5 = 15.5 -> 15
        x[1] = 3.2f;         // 11.7 -> 11
        var q = GgmlBlocks.QuantizeQ4_0(x);
        Assert.Equal(18, q.Length);
        Assert.Equal((Half)1f, BitConverter.ToHalf(q, 0));
        Assert.Equal(0 | (15 << 4), q[2]);
        Assert.Equal(11 | (8 << 4), q[3]);
        var back = GgmlBlocks.Dequantize(GgmlType.Q4_0, q, 32);
        Assert.Equal(-8f, back[0]);
        Assert.Equal(7f, back[16]);
        Assert.Equal(3f, back[1]);
    }

    [Fact]
    public void All_zero_blocks_and_wrong_lengths()
    {
        Assert.All(GgmlBlocks.Dequantize(GgmlType.Q8_0, GgmlBlocks.QuantizeQ8_0(new float[64]), 64), v => Assert.Equal(0f, v));
        Assert.All(GgmlBlocks.Dequantize(GgmlType.Q4_0, GgmlBlocks.QuantizeQ4_0(new float[64]), 64), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentException>(() => GgmlBlocks.QuantizeQ8_0(new float[33]));
        Assert.Throws<ArgumentException>(() => GgmlBlocks.Dequantize(GgmlType.Q8_0, new byte[33], 32));
        Assert.Throws<NotSupportedException>(() => GgmlBlocks.Dequantize(GgmlType.Q4_K, new byte[144], 256));
    }
}
