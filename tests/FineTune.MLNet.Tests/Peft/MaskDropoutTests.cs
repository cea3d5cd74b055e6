using FineTune.MLNet.Modules;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Peft;

/// <summary>
/// <see cref="MaskDropout"/>, the adapter-input dropout of <see cref="LoraLinear"/>: inverted dropout with torch's
/// distribution (keep rate 1 − p, kept values scaled by 1/(1 − p)), gradient through the same mask, identity at p = 0
/// and in eval, and a LoRA layer whose p = 0 output equals the base + B·A·scaling exactly.
/// </summary>
public sealed class MaskDropoutTests
{
    [Fact]
    public void KeepsOneMinusPOfTheValuesScaledAndTheGradientFollowsTheMask()
    {
        manual_seed(3);
        using var x = ones(200_000).requires_grad_(true);   // (N)
        using var y = MaskDropout.Apply(x, 0.1, training: true);
        y.sum().backward();
        var values = y.detach().data<float>().ToArray();
        var kept = values.Count(v => v != 0);
        Assert.All(values.Where(v => v != 0), v => Close.AssertClose(1 / 0.9, v, 1e-6, what: "kept value"));
        // Binomial(200000, 0.9): sd ≈ 134 kept values; the seed is fixed, the bound is 5 sd.
        Close.AssertClose(0.9, kept / 200_000.0, 5 * 134 / 200_000.0, what: "keep rate");
        var grad = x.grad!.data<float>().ToArray();
        Assert.Equal(values.Length, Close.AssertAllClose(values, grad, 1e-7, what: "gradient = mask"));
    }

    [Fact]
    public void IsTheIdentityAtZeroAndInEval()
    {
        using var x = randn(4, 5);
        Assert.Same(x, MaskDropout.Apply(x, 0, training: true));
        Assert.Same(x, MaskDropout.Apply(x, 0.3, training: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => MaskDropout.Apply(x, 1.0, training: true));
    }

    [Fact]
    public void LoraLayerAtZeroDropoutComputesBasePlusScaledUpdate()
    {
        manual_seed(5);
        var lora = new LoraSettings { Rank = 2, Alpha = 4, Dropout = 0, TargetModules = ["proj"] };
        using var layer = new LoraLinear("proj", 6, 3, hasBias: true, lora);
        layer.train();
        using (no_grad())
            foreach (var (name, p) in layer.named_parameters()) if (name.StartsWith("lora_B")) p.copy_(randn(p.shape));
        using var x = randn(2, 4, 6);                                   // (B, T, in)
        using var actual = layer.forward(x);                            // (B, T, out)
        var a = layer.named_parameters().Single(p => p.name == "lora_A.weight").parameter;
        var b = layer.named_parameters().Single(p => p.name == "lora_B.weight").parameter;
        using var expected = nn.functional.linear(x, layer.Weight, layer.Bias!)
            .add(matmul(matmul(x, a.t()), b.t()).mul(2.0)).detach();    // scaling = 4 / 2
        Assert.Equal(24, Close.AssertAllClose(expected.data<float>().ToArray(), actual.detach().data<float>().ToArray(), 1e-5, 1e-5));
    }
}
