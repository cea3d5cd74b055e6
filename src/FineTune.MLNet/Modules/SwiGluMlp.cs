using static TorchSharp.torch;

namespace FineTune.MLNet.Modules;

/// <summary>
/// SwiGLU feed-forward block (HF <c>LlamaMLP</c>): <c>down_proj(silu(gate_proj(x)) · up_proj(x))</c>.
/// The projections are given by the builder (plain, LoRA or quantized linears).
/// </summary>
public sealed class SwiGluMlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> gate_proj;   // (I, C)
    private readonly nn.Module<Tensor, Tensor> up_proj;     // (I, C)
    private readonly nn.Module<Tensor, Tensor> down_proj;   // (C, I)

    public SwiGluMlp(nn.Module<Tensor, Tensor> gateProj, nn.Module<Tensor, Tensor> upProj, nn.Module<Tensor, Tensor> downProj)
        : base("mlp")
    {
        gate_proj = gateProj;
        up_proj = upProj;
        down_proj = downProj;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(gate_proj.forward(x)).mul(up_proj.forward(x));   // (B, T, I)
        return down_proj.forward(h).MoveToOuterDisposeScope();                        // (B, T, C)
    }
}
