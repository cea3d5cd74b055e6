using FineTune.MLNet.Generation;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Generation;

public class TokenSamplerTests
{
    // probabilities 0.5, 0.3, 0.15, 0.05 (in a shuffled order) as logits.
    private static Tensor Logits() => tensor(new[] { Math.Log(0.15), Math.Log(0.5), Math.Log(0.05), Math.Log(0.3) }).to_type(ScalarType.Float32).unsqueeze(0);

    private static bool[] Kept(GenerationOptions o)
    {
        using var scope = NewDisposeScope();
        return TokenSampler.Filter(Logits(), o)[0].isfinite().data<bool>().ToArray();
    }

    [Fact]
    public void TopPKeepsTheSmallestNucleusReachingP()
    {
        Assert.Equal([false, true, false, true], Kept(new GenerationOptions { DoSample = true, TopP = 0.7 }));    // 0.5 + 0.3 >= 0.7
        Assert.Equal([false, true, false, false], Kept(new GenerationOptions { DoSample = true, TopP = 0.4 }));   // top token alone
        Assert.Equal([true, true, false, true], Kept(new GenerationOptions { DoSample = true, TopP = 0.9 }));
        Assert.Equal([true, true, true, true], Kept(new GenerationOptions { DoSample = true }));
    }

    [Fact]
    public void TopKKeepsKTokensAndTemperatureScales()
    {
        Assert.Equal([false, true, false, true], Kept(new GenerationOptions { DoSample = true, TopK = 2 }));
        using var scope = NewDisposeScope();
        var scaled = TokenSampler.Filter(Logits(), new GenerationOptions { DoSample = true, Temperature = 2 });
        Assert.True(scaled.sub(Logits().div(2)).abs().max().item<float>() < 1e-7);
    }

    [Fact]
    public void SamplesOnlyFromTheNucleusWithRoughlyRenormalisedFrequencies()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7, CPU);
        var o = new GenerationOptions { DoSample = true, TopP = 0.7 };
        var batch = Logits().expand(4000, 4);
        var draws = TokenSampler.Next(batch, o, generator).data<long>().ToArray();
        Assert.All(draws, d => Assert.True(d is 1 or 3, $"drew {d}"));
        double share = draws.Count(d => d == 1) / 4000.0;
        Assert.InRange(share, 0.5 / 0.8 - 0.03, 0.5 / 0.8 + 0.03);
    }

    [Fact]
    public void GreedyIsArgmax()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(1, TokenSampler.Next(Logits(), new GenerationOptions(), null).item<long>());
    }
}
