using FineTune.MLNet.Tests.TestSupport;
using FineTune.MLNet.Quantization;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Quantization;

public class Nf4LinearTests
{
    private readonly ITestOutputHelper _output;

    public Nf4LinearTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void ForwardIsCloseToTheFloatLinear()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(42);
        var weight = randn(96, 200, generator: gen) * 0.05; // (out, in)
        var bias = randn(96, generator: gen) * 0.1;
        var x = randn(3, 5, 200, generator: gen); // (B, T, in)

        using var layer = Nf4Linear.FromLinearWeight(weight, bias);
        var expected = nn.functional.linear(x, weight, bias); // (B, T, out)
        var actual = layer.forward(x);

        Assert.Equal(new long[] { 3, 5, 96 }, actual.shape);
        double relative = (actual - expected).norm().item<float>() / expected.norm().item<float>();
        _output.WriteLine($"Nf4Linear vs float Linear: ||dy|| / ||y|| = {relative:F4}");
        Assert.True(relative < 0.12, $"relative output error {relative}");
        Assert.True(relative > 1e-4, "the NF4 layer reproduced the float layer exactly: was the weight quantized at all?");

        // Exactly linear(x, dequantized weight, bias).
        var reference = nn.functional.linear(x, layer.DequantizedWeight(), bias);
        Assert.True(actual.allclose(reference, rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void ExposesShapesAndDequantizedWeight()
    {
        using var scope = NewDisposeScope();
        var weight = randn(24, 70, generator: new Generator(1));
        using var layer = Nf4Linear.FromLinearWeight(weight);
        using var q = Nf4Tensor.Quantize(weight);

        Assert.Equal(70, layer.InFeatures);
        Assert.Equal(24, layer.OutFeatures);
        Assert.False(layer.HasBias);
        Assert.Equal(q.StorageBytes, layer.WeightStorageBytes);
        var w = layer.DequantizedWeight();
        Assert.Equal(new long[] { 24, 70 }, w.shape);
        Assert.True(Nf4Fixtures.Same(w, q.Dequantize()));
    }

    [Fact]
    public void HoldsNoTrainableParameters()
    {
        using var scope = NewDisposeScope();
        using var layer = Nf4Linear.FromLinearWeight(randn(8, 64), randn(8));
        Assert.Empty(layer.parameters());
        var names = layer.named_buffers().Select(b => b.name).OrderBy(s => s, StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "bias", "weight_absmax_offset", "weight_absmax_q", "weight_absmax_scale", "weight_nf4_codes" }, names);
    }

    [Fact]
    public void GradientsFlowToTheInputOnly()
    {
        using var scope = NewDisposeScope();
        using var layer = Nf4Linear.FromLinearWeight(randn(8, 64), randn(8));
        var x = randn(2, 64).requires_grad_(true);
        layer.forward(x).sum().backward();
        Assert.NotNull(x.grad);
        Assert.True(x.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void StateDictRoundTripsIntoAnEmptyLayer()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(9);
        using var source = Nf4Linear.FromLinearWeight(randn(40, 130, generator: gen), randn(40, generator: gen));
        var x = randn(4, 130, generator: gen);

        var state = source.state_dict();
        Assert.Equal(5, state.Count);
        using var target = new Nf4Linear(130, 40, hasBias: true);
        var (missing, unexpected) = target.load_state_dict(state, strict: true);
        Assert.Empty(missing);
        Assert.Empty(unexpected);

        Assert.True(Nf4Fixtures.Same(target.forward(x), source.forward(x)));
    }

    [Fact]
    public void StateDictSurvivesSaveAndLoadToFile()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(TestTempRoot.Path, $"nf4linear-{Guid.NewGuid():N}.bin");
        try
        {
            using var source = Nf4Linear.FromLinearWeight(randn(16, 64, generator: new Generator(2)));
            source.save(path);
            using var target = new Nf4Linear(64, 16);
            target.load(path);
            Assert.True(Nf4Fixtures.Same(target.DequantizedWeight(), source.DequantizedWeight()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FollowsTheInputDtype()
    {
        using var scope = NewDisposeScope();
        var weight = randn(16, 64, generator: new Generator(6));
        var bias = randn(16, generator: new Generator(7));
        using var layer = Nf4Linear.FromLinearWeight(weight, bias);
        var x = randn(3, 64, generator: new Generator(8));

        var y16 = layer.forward(x.to(ScalarType.BFloat16));
        Assert.Equal(ScalarType.BFloat16, y16.dtype);
        var y32 = layer.forward(x);
        double relative = (y16.to(ScalarType.Float32) - y32).norm().item<float>() / y32.norm().item<float>();
        Assert.True(relative < 0.02, $"bf16 forward differs from float32 by {relative}");
    }

    [Fact]
    public void DtypeChangesLeaveTheStorageAlone()
    {
        using var scope = NewDisposeScope();
        using var layer = Nf4Linear.FromLinearWeight(randn(16, 64, generator: new Generator(12)), randn(16));
        var x = randn(2, 64, generator: new Generator(13));
        var before = layer.forward(x);

        layer.to(ScalarType.BFloat16);
        layer.to(CPU, ScalarType.Float16);
        layer.to(CPU);

        var dtypes = layer.named_buffers().ToDictionary(b => b.name, b => b.buffer.dtype);
        Assert.Equal(ScalarType.Byte, dtypes["weight_nf4_codes"]);
        Assert.Equal(ScalarType.Byte, dtypes["weight_absmax_q"]);
        Assert.Equal(ScalarType.Float32, dtypes["weight_absmax_scale"]);
        Assert.Equal(ScalarType.Float32, dtypes["weight_absmax_offset"]);
        Assert.Equal(ScalarType.Float32, dtypes["bias"]);
        Assert.True(Nf4Fixtures.Same(layer.forward(x), before));
    }

    [Fact]
    public void RejectsBadShapes()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => Nf4Linear.FromLinearWeight(randn(64)));
        Assert.Throws<ArgumentException>(() => Nf4Linear.FromLinearWeight(randn(4, 64), randn(5)));
        using var layer = Nf4Linear.FromLinearWeight(randn(4, 64));
        var error = Assert.Throws<ArgumentException>(() => layer.forward(randn(2, 63)));
        Assert.Contains("64", error.Message);
    }

    [Fact]
    public void DoesNotKeepOrChangeTheSourceTensors()
    {
        using var scope = NewDisposeScope();
        var weight = randn(8, 64, generator: new Generator(10));
        var bias = randn(8, generator: new Generator(11));
        using var layer = Nf4Linear.FromLinearWeight(weight, bias);
        var before = layer.forward(ones(1, 64));
        bias.add_(100);
        weight.zero_();
        Assert.True(Nf4Fixtures.Same(layer.forward(ones(1, 64)), before));
    }
}
