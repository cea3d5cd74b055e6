using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Peft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Llama;

/// <summary>
/// One pre-norm decoder block, HF <c>LlamaDecoderLayer</c>: <c>x + attn(rms(x))</c>, then <c>x + mlp(rms(x))</c>.
/// Keys <c>input_layernorm</c>, <c>self_attn.{q,k,v,o}_proj</c>, <c>post_attention_layernorm</c>, <c>mlp.{gate,up,down}_proj</c>.
/// </summary>
public sealed class LlamaDecoderLayer : nn.Module
{
    private readonly RmsNorm input_layernorm;
    private readonly GroupedQueryAttention self_attn;
    private readonly RmsNorm post_attention_layernorm;
    private readonly SwiGluMlp mlp;

    public LlamaDecoderLayer(LlamaConfig config, LoraSettings? lora) : base(nameof(LlamaDecoderLayer))
    {
        long c = config.HiddenSize, i = config.IntermediateSize, d = config.EffectiveHeadDim;
        long q = config.NumAttentionHeads * d, kv = config.KeyValueHeads * d;
        var nf4 = lora?.QuantizeBase == true;   // QLoRA: every projection stores its frozen base as NF4
        input_layernorm = new RmsNorm("input_layernorm", c, config.RmsNormEps);
        self_attn = new GroupedQueryAttention(config.NumAttentionHeads, config.KeyValueHeads, (int)d,
            LinearFactory.Create("q_proj", c, q, config.QkvBias, lora, quantizeBase: nf4),
            LinearFactory.Create("k_proj", c, kv, config.QkvBias, lora, quantizeBase: nf4),
            LinearFactory.Create("v_proj", c, kv, config.QkvBias, lora, quantizeBase: nf4),
            LinearFactory.Create("o_proj", q, c, config.OutputBias, lora, quantizeBase: nf4));
        post_attention_layernorm = new RmsNorm("post_attention_layernorm", c, config.RmsNormEps);
        mlp = new SwiGluMlp(
            LinearFactory.Create("gate_proj", c, i, config.MlpBias, lora, quantizeBase: nf4),
            LinearFactory.Create("up_proj", c, i, config.MlpBias, lora, quantizeBase: nf4),
            LinearFactory.Create("down_proj", i, c, config.MlpBias, lora, quantizeBase: nf4));
        RegisterComponents();
    }

    /// <summary>See <see cref="GroupedQueryAttention.EagerAttention"/>.</summary>
    internal bool EagerAttention
    {
        get => self_attn.EagerAttention;
        set => self_attn.EagerAttention = value;
    }

    /// <param name="x">(B, T, C).</param>
    /// <param name="mask">Additive (B|1, 1, T, S), or null for plain causal attention (no padding, no cache).</param>
    /// <returns>(B, T, C).</returns>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layerIndex)
    {
        using var scope = NewDisposeScope();
        var h = x.add(self_attn.Forward(input_layernorm.forward(x), cos, sin, mask, cache, layerIndex));   // (B, T, C)
        var y = h.add(mlp.forward(post_attention_layernorm.forward(h)));                                     // (B, T, C)
        return y.MoveToOuterDisposeScope();
    }
}
