using FineTune.MLNet.Autograd;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Quantization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Autograd;

/// <summary>
/// <see cref="CustomFunctionGradients"/>: a backward through a chain of custom autograd nodes (the QLoRA base matmul,
/// activation checkpointing) leaves the same number of live tensors whatever the chain's length. Before the fix each
/// node left two (the wrappers of its incoming and returned gradients, each a reference that kept the gradient alive
/// until the backward ended), so a chain of 8 left 12 more than a chain of 2. A first backward primes the one
/// gradient per thread that the next backward releases.
/// </summary>
public sealed class CustomFunctionGradientsTests
{
    private static long LiveTensorsLeftByBackward(int nodes, Func<Tensor, Tensor> node)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(7);
        var x = randn(4, 32, generator: gen).requires_grad_(true);                 // (N, F)
        var h = x;
        for (var i = 0; i < nodes; i++) h = node(h);                               // (N, F)
        var loss = h.square().sum();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        loss.backward();
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(x.grad is { } g && g.abs().max().item<float>() > 0, "the gradient reached the input");
        return after - before;
    }

    [Fact]
    public void Nf4MatMulChainLeavesNoGradientPerNode()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(3);
        using var layer = Nf4Linear.FromLinearWeight(randn(32, 32, generator: gen).mul(0.2));
        _ = LiveTensorsLeftByBackward(1, layer.forward);
        long two = LiveTensorsLeftByBackward(2, layer.forward);
        long eight = LiveTensorsLeftByBackward(8, layer.forward);
        Assert.True(eight == two, $"live tensors after the backward: {two} for 2 nodes, {eight} for 8 (each node kept its gradients)");
    }

    [Fact]
    public void CheckpointedChainLeavesNoGradientPerNode()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(4);
        var w = randn(32, 32, generator: gen).mul(0.2);                            // (F, F), constant
        Tensor Block(Tensor h) => ActivationCheckpoint.Apply((x, c) => x.matmul(c[0]).tanh(), h, w);
        _ = LiveTensorsLeftByBackward(1, Block);
        long two = LiveTensorsLeftByBackward(2, Block);
        long eight = LiveTensorsLeftByBackward(8, Block);
        Assert.True(eight == two, $"live tensors after the backward: {two} for 2 nodes, {eight} for 8 (each node kept its gradients)");
    }
}
