using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Peft;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Bert;

/// <summary>Self-attention followed by its output projection, residual and LayerNorm. HF <c>BertAttention</c>.</summary>
public sealed class BertAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly BertSelfAttention self;
    private readonly BertResidualOutput output;

    public BertAttention(BertConfig config, LoraSettings? lora) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config, lora);
        output = new BertResidualOutput(config, config.HiddenSize, lora);
        RegisterComponents();
    }

    /// <param name="x">(B, T, H).</param><param name="additiveMask">(B, 1, 1, T).</param><returns>(B, T, H).</returns>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var attended = self.forward(x, additiveMask);     // (B, T, H)
        return output.forward(attended, x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// <c>LayerNorm(dropout(dense(h)) + residual)</c>: HF's <c>BertSelfOutput</c> (in = hidden) and <c>BertOutput</c>
/// (in = intermediate) are this same block.
/// </summary>
public sealed class BertResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LoraLinear dense;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;

    public BertResidualOutput(BertConfig config, long inFeatures, LoraSettings? lora) : base(nameof(BertResidualOutput))
    {
        dense = LinearFactory.Create("dense", inFeatures, config.HiddenSize, hasBias: true, lora);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <param name="h">(B, T, in).</param><param name="residual">(B, T, H).</param><returns>(B, T, H).</returns>
    public override Tensor forward(Tensor h, Tensor residual)
    {
        using var scope = NewDisposeScope();
        var y = dropout.forward(dense.forward(h)).add_(residual);    // (B, T, H)
        return LayerNorm.forward(y).MoveToOuterDisposeScope();
    }
}
