using static TorchSharp.torch;

namespace FineTune.MLNet.Modules;

/// <summary>
/// Root-mean-square layer norm as HF <c>LlamaRMSNorm</c>: normalise in float32
/// (<c>x · rsqrt(mean(x²) + eps)</c>), cast back to the input dtype, then multiply by <c>weight</c>
/// (plain weight, not Gemma's <c>1 + weight</c>). Field name <c>weight</c> as in the checkpoint.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Parameter weight;   // (C)
    private readonly double eps;

    public RmsNorm(string name, long size, double eps) : base(name)
    {
        weight = new TorchSharp.Modules.Parameter(ones(size));
        this.eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x32 = x.to_type(ScalarType.Float32);                                      // (..., C)
        var variance = x32.pow(2).mean([-1], keepdim: true);                          // (..., 1)
        var normed = x32.mul(variance.add(eps).rsqrt()).to_type(x.dtype);             // (..., C)
        return weight.mul(normed).MoveToOuterDisposeScope();
    }
}
