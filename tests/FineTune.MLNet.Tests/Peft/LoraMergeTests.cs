using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Peft;

/// <summary>
/// <see cref="LoraMerge.MergedStateDict"/>, the one merge behind every merged save and export: W + B·A·scaling for an
/// enabled adapter (computed here from the layer's own A, B and alpha/r), the base alone for a disabled one, QLoRA bases
/// dequantized under <c>.weight</c> without their NF4 buffers, no adapter tensors, and the model left unchanged.
/// </summary>
public sealed class LoraMergeTests
{
    private static readonly LoraSettings Lora = new() { Rank = 2, Alpha = 6, Dropout = 0, TargetModules = ["proj"] };

    private static nn.Module<Tensor, Tensor> Model(bool quantizeBase)
    {
        manual_seed(11);
        var layer = new LoraLinear("proj", 8, 4, hasBias: true, Lora, quantizeBase);
        if (quantizeBase) layer.LoadBaseWeight(randn(4, 8));
        using var _ = no_grad();
        foreach (var (name, p) in layer.named_parameters())
            if (name.StartsWith("lora_B")) p.copy_(randn(p.shape));   // B starts at zero: give the update a value
        return nn.Sequential(("proj", (nn.Module<Tensor, Tensor>)layer));
    }

    private static float[] Values(Tensor t) => t.to(ScalarType.Float32).flatten().data<float>().ToArray();

    private static Tensor Param(nn.Module model, string name) => model.named_parameters().Single(p => p.name == name).parameter;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FoldsAnEnabledAdapterAndKeepsTheBaseOfADisabledOne(bool quantizeBase)
    {
        using var model = Model(quantizeBase);
        var layer = (LoraLinear)model.named_modules().Single(m => m.name == "proj").module;
        using var scope = NewDisposeScope();
        var a = Param(model, "proj.lora_A.weight");                     // (r, in)
        var b = Param(model, "proj.lora_B.weight");                     // (out, r)
        var baseWeight = layer.BaseWeight();                            // (out, in)
        var expected = baseWeight.add(matmul(b, a).mul(6.0 / 2));       // W + B·A·alpha/r

        var merged = LoraMerge.MergedStateDict(model);
        Assert.Equal(["proj.bias", "proj.weight"], merged.Keys.Order(StringComparer.Ordinal));   // no lora_*, no NF4 buffers
        var compared = Close.AssertAllClose(Values(expected), Values(merged["proj.weight"]), atol: 1e-6, what: "merged weight");
        Assert.Equal(32, compared);
        Close.AssertAllClose(Values(Param(model, "proj.bias")), Values(merged["proj.bias"]), atol: 0, what: "bias");
        Assert.False(layer.Merged);                                     // the model itself is not changed
        Assert.Contains(Values(Param(model, "proj.lora_B.weight")), v => v != 0);

        layer.AdapterDisabled = true;
        var disabled = LoraMerge.MergedStateDict(model);
        Close.AssertAllClose(Values(baseWeight), Values(disabled["proj.weight"]), atol: 0, what: "disabled adapter keeps the base");
    }

    [Fact]
    public void StoresFloatingTensorsInTheAskedDtype()
    {
        using var model = Model(quantizeBase: false);
        using var scope = NewDisposeScope();
        var full = LoraMerge.MergedStateDict(model);
        var half = LoraMerge.MergedStateDict(model, ScalarType.BFloat16);
        Assert.All(half.Values, t => Assert.Equal(ScalarType.BFloat16, t.dtype));
        Assert.All(full.Values, t => Assert.Equal(ScalarType.Float32, t.dtype));
        Close.AssertAllClose(Values(full["proj.weight"]), Values(half["proj.weight"]), atol: 1e-2, rtol: 1e-2, what: "bf16 weight");
    }
}
