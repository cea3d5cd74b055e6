using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Peft;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Llama;

/// <summary>
/// The decoder stack without the output head, HF <c>LlamaModel</c> / <c>Qwen2Model</c> / <c>MistralModel</c>
/// (keys <c>embed_tokens</c>, <c>layers.{i}</c>, <c>norm</c>; under <c>model.</c> in the causal LM).
/// </summary>
public sealed class LlamaModel : nn.Module
{
    private readonly Embedding embed_tokens;    // (V, C)
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly RmsNorm norm;
    private readonly RotaryEmbedding rotary;

    public LlamaModel(LlamaConfig config, LoraSettings? lora) : base(nameof(LlamaModel))
    {
        config.Validate();
        Config = config;
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize);
        layers = nn.ModuleList([.. Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new LlamaDecoderLayer(config, lora))]);
        norm = new RmsNorm("norm", config.HiddenSize, config.RmsNormEps);
        rotary = new RotaryEmbedding(config.EffectiveHeadDim, config.RopeTheta, config.RopeScaling);
        adapterDropout = lora is { Dropout: > 0 };
        RegisterComponents();
    }

    private readonly bool adapterDropout;

    /// <summary>
    /// Activation checkpointing per decoder layer (HF <c>gradient_checkpointing_enable()</c>): in training mode with
    /// autograd on and no KV cache, each layer keeps only its input and is recomputed in the backward
    /// (<see cref="ActivationCheckpoint"/>). Same gradients, about one extra forward of compute, far less activation memory.
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    public LlamaConfig Config { get; }

    /// <summary>
    /// HF <c>attn_implementation="eager"</c> in every layer (materialised scores) instead of the default fused
    /// <c>scaled_dot_product_attention</c>; for comparisons and benchmarks.
    /// </summary>
    internal bool EagerAttention
    {
        get => layers.Count > 0 && layers[0].EagerAttention;
        set
        {
            foreach (var layer in layers) layer.EagerAttention = value;
        }
    }

    /// <summary>The input embedding table (V, C); the output head when embeddings are tied.</summary>
    public Parameter EmbeddingWeight => embed_tokens.weight!;

    public RotaryEmbedding Rotary => rotary;

    /// <param name="inputIds">(B, T) int64.</param>
    /// <param name="attentionMask">(B, S) with S = cached + T; 1 = token, 0 = padding. Null means no padding.</param>
    /// <param name="positionIds">(B, T); null means <c>cached .. cached + T − 1</c> for every row, as HF's forward.</param>
    /// <param name="cache">Optional cache, extended by this call.</param>
    /// <returns>Final-norm hidden states (B, T, C).</returns>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        long b = inputIds.shape[0], t = inputIds.shape[1];
        long past = cache?.Length ?? 0;
        if (Config.SlidingWindow is int window && past + t > window)
        {
            throw new NotSupportedException(
                $"The sequence ({past + t} positions) is longer than sliding_window ({window}); sliding-window attention is not implemented " +
                "(it equals full attention only for sequences no longer than the window).");
        }
        var x = embed_tokens.forward(inputIds);                                                       // (B, T, C)
        var device = x.device;
        positionIds ??= arange(past, past + t, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(b, t);   // (B, T)
        var (cos, sin) = rotary.CosSin(positionIds.to(device), x.dtype);                              // (B, 1, T, d)
        // Without padding or cache the mask is plain causal: attention takes is_causal and no (T, S) mask tensor.
        var mask = attentionMask is null && past == 0 ? null : CausalMask.Build(b, t, past, attentionMask, x.dtype, device);   // (B|1, 1, T, S)
        if (mask is not null && !EagerAttention) mask = CausalMask.UnmaskFullyMaskedRows(mask);
        var checkpoint = GradientCheckpointing && training && cache is null && is_grad_enabled();
        if (checkpoint)
        {
            if (adapterDropout && device.type != DeviceType.CPU)
                throw new NotSupportedException("GradientCheckpointing with LoRA dropout > 0 replays only the CPU random generator; on " +
                    $"{device.type} set the LoRA dropout to 0 or turn GradientCheckpointing off.");
            if (!x.requires_grad) x.requires_grad_(true);   // frozen embeddings (LoRA): the checkpoints must still be on the graph
        }
        Tensor[] constants = mask is null ? [cos, sin] : [cos, sin, mask];   // saved by each checkpoint until its backward
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            x = checkpoint
                ? ActivationCheckpoint.Apply((h, c) => layer.Forward(h, c[0], c[1], c.Length > 2 ? c[2] : null, null, 0), x, constants)   // (B, T, C)
                : layer.Forward(x, cos, sin, mask, cache, i);                                                            // (B, T, C)
        }
        return norm.forward(x).MoveToOuterDisposeScope();                                              // (B, T, C)
    }
}
