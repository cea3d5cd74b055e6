using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Peft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Bert;

/// <summary>One transformer block: attention, then the feed-forward network. HF <c>BertLayer</c>.</summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertResidualOutput output;

    public BertLayer(BertConfig config, LoraSettings? lora) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config, lora);
        intermediate = new BertIntermediate(config, lora);
        output = new BertResidualOutput(config, config.IntermediateSize, lora);
        RegisterComponents();
    }

    /// <param name="x">(B, T, H).</param><param name="additiveMask">(B, 1, 1, T).</param><returns>(B, T, H).</returns>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var a = attention.forward(x, additiveMask);         // (B, T, H)
        var h = intermediate.forward(a);                    // (B, T, I)
        return output.forward(h, a).MoveToOuterDisposeScope();
    }
}

/// <summary><c>act(dense(x))</c> expanding to the intermediate size. HF <c>BertIntermediate</c>.</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly LoraLinear dense;
    private readonly string activation;

    public BertIntermediate(BertConfig config, LoraSettings? lora) : base(nameof(BertIntermediate))
    {
        dense = LinearFactory.Create("dense", config.HiddenSize, config.IntermediateSize, hasBias: true, lora);
        activation = config.HiddenAct;
        RegisterComponents();
    }

    /// <param name="x">(B, T, H).</param><returns>(B, T, I).</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = dense.forward(x);                           // (B, T, I)
        var y = activation switch
        {
            "gelu" => nn.functional.gelu(h),
            "gelu_new" or "gelu_pytorch_tanh" => nn.functional.gelu(h, TorchSharp.Modules.GELU.Approximate.tanh),
            "relu" => nn.functional.relu(h),
            _ => throw new NotSupportedException($"hidden_act '{activation}' is not supported (gelu, gelu_new, relu)."),
        };
        return y.MoveToOuterDisposeScope();
    }
}
