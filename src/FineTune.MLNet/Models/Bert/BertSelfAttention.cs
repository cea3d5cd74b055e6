using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Peft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Bert;

/// <summary>Multi-head self-attention, HF <c>BertSelfAttention</c> (query/key/value may carry LoRA adapters).</summary>
public sealed class BertSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LoraLinear query;
    private readonly LoraLinear key;
    private readonly LoraLinear value;
    private readonly int heads;
    private readonly double attentionDropout;

    public BertSelfAttention(BertConfig config, LoraSettings? lora) : base(nameof(BertSelfAttention))
    {
        var h = config.HiddenSize;
        query = LinearFactory.Create("query", h, h, hasBias: true, lora);
        key = LinearFactory.Create("key", h, h, hasBias: true, lora);
        value = LinearFactory.Create("value", h, h, hasBias: true, lora);
        heads = config.NumAttentionHeads;
        attentionDropout = config.AttentionProbsDropoutProb;
        RegisterComponents();
    }

    /// <param name="x">(B, T, H).</param>
    /// <param name="additiveMask">(B, 1, 1, T) float: 0 where attended, a large negative number at padding.</param>
    /// <returns>(B, T, H).</returns>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1], hidden = x.shape[2], d = hidden / heads;
        var q = query.forward(x).view(b, t, heads, d).transpose(1, 2);    // (B, nh, T, d)
        var k = key.forward(x).view(b, t, heads, d).transpose(1, 2);      // (B, nh, T, d)
        var v = value.forward(x).view(b, t, heads, d).transpose(1, 2);    // (B, nh, T, d)
        var p = training ? attentionDropout : 0.0;
        var y = nn.functional.scaled_dot_product_attention(q, k, v, additiveMask, p);  // (B, nh, T, d)
        return y.transpose(1, 2).reshape(b, t, hidden).MoveToOuterDisposeScope();      // (B, T, H)
    }
}
