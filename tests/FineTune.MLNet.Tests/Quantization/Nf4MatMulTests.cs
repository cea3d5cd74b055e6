using FineTune.MLNet.Quantization;
using TorchSharp;
using Xunit;
using static FineTune.MLNet.Tests.TestSupport.Close;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Quantization;

/// <summary>
/// The QLoRA base matmul that keeps no float weight for the backward (<see cref="Nf4MatMul"/>, used by
/// <see cref="Nf4Linear.forward"/> when the input needs a gradient): the output and the input gradient equal those of
/// <c>linear(x, dequantize(W), b)</c> through autograd.
/// </summary>
public sealed class Nf4MatMulTests
{
    [Fact]
    public void OutputAndInputGradientEqualTheDequantizedLinear()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(3);
        using var layer = Nf4Linear.FromLinearWeight(randn(48, 80, generator: gen).mul(0.05), randn(48, generator: gen));
        var upstream = randn(2, 5, 48, generator: gen);                             // (B, T, out)

        var x = randn(2, 5, 80, generator: gen).requires_grad_(true);              // (B, T, in)
        var y = layer.forward(x);
        y.mul(upstream).sum().backward();

        var xRef = x.detach().clone().requires_grad_(true);
        var weight = layer.DequantizedWeight();                                     // (out, in)
        var bias = layer.state_dict().TryGetValue("bias", out var b) ? b : null;
        var yRef = nn.functional.linear(xRef, weight, bias);
        yRef.mul(upstream).sum().backward();

        Assert.True(bias is not null, "the layer keeps its bias");
        var outputs = AssertAllClose(yRef.data<float>().ToArray(), y.detach().data<float>().ToArray(), atol: 1e-6, what: "output");
        var grads = AssertAllClose(xRef.grad!.data<float>().ToArray(), x.grad!.data<float>().ToArray(), atol: 1e-6, what: "input gradient");
        Assert.Equal(2 * 5 * 48, outputs);
        Assert.Equal(2 * 5 * 80, grads);
        Assert.True(x.grad!.abs().max().item<float>() > 1e-3, "the input gradient is all but zero");
    }
}
