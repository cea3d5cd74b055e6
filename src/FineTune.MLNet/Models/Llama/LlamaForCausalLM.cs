using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Peft;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Llama;

/// <summary>
/// Llama-family causal language model, HF <c>LlamaForCausalLM</c> / <c>Qwen2ForCausalLM</c> / <c>MistralForCausalLM</c>:
/// <see cref="LlamaModel"/> under <c>model.</c> plus <c>lm_head</c> (no bias; absent when <c>tie_word_embeddings</c>,
/// then the embedding table is the head). With <see cref="LoraSettings"/> every targeted block linear (q, k, v, o,
/// gate, up, down; never lm_head) carries an adapter and everything else is frozen.
/// Checked against the numpy reference (float64) for llama, tied llama with llama3 RoPE scaling, qwen2 and BF16
/// sharded checkpoints: float32 logits within 1e-4.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module<Tensor, Tensor>
{
    private readonly LlamaModel model;
    private readonly Linear? lm_head;   // (V, C)

    public LlamaForCausalLM(LlamaConfig config, LoraSettings? lora = null) : base(nameof(LlamaForCausalLM))
    {
        ArgumentNullException.ThrowIfNull(config);
        lora?.Validate();
        config.Validate();
        // QLoRA holds the block projections as NF4 (a 7B base is about 3.9 GB, not 25 GB in float32).
        var quantized = lora?.QuantizeBase == true;
        ModelMemory.EnsureFits(ModelMemory.ParameterCount(config), ModelMemory.ResidentBytes(config, quantized),
            quantized ? "NF4 block projections and float32 embeddings, norms and head" : "4 bytes each", $"{config.ModelType} config");
        model = new LlamaModel(config, lora);
        lm_head = config.TieWordEmbeddings ? null : nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
        RegisterComponents();
        Lora = lora;
        if (lora is not null) FreezeAllButAdapters();
    }

    public LlamaConfig Config => model.Config;

    /// <summary>The adapter settings, or null for a plain (fully trainable) model.</summary>
    public LoraSettings? Lora { get; }

    /// <summary>Activation checkpointing per decoder layer while training (see <see cref="LlamaModel.GradientCheckpointing"/>).</summary>
    public bool GradientCheckpointing
    {
        get => model.GradientCheckpointing;
        set => model.GradientCheckpointing = value;
    }

    /// <summary>The decoder stack (HF <c>model</c>).</summary>
    public LlamaModel Model => model;

    /// <summary>
    /// Loads a Hugging Face checkpoint folder (<c>config.json</c> + <c>model.safetensors</c> or shards) strictly:
    /// every base parameter must be present and nothing else (tied models store no <c>lm_head.weight</c>; legacy
    /// <c>rotary_emb.inv_freq</c> buffers are ignored). LoRA adapters, when requested, start as PEFT initialises them
    /// (B = 0, so the model equals the base). <paramref name="dtype"/> null means float32 on CPU (bf16/f16
    /// checkpoints are upcast) and the checkpoint's <c>torch_dtype</c> on other devices. Returned in eval mode.
    /// </summary>
    public static LlamaForCausalLM FromPretrained(string dir, LoraSettings? lora = null, string device = "cpu", ScalarType? dtype = null) =>
        LlamaCheckpointLoader.Load(dir, lora, device, dtype);

    /// <summary>
    /// Loads the base checkpoint with LoRA layers built from a PEFT adapter's <c>adapter_config.json</c>, then the
    /// adapter weights (<see cref="PeftAdapterIO.Load"/>); adapters stay unmerged (call <see cref="MergeAdapters"/> to fold them).
    /// </summary>
    public static LlamaForCausalLM FromPretrainedWithAdapter(string dir, string adapterDir, string device = "cpu", ScalarType? dtype = null)
    {
        var settings = PeftAdapterIO.ReadConfig(adapterDir).ToLoraSettings();
        var model = FromPretrained(dir, settings, device, dtype);
        try
        {
            PeftAdapterIO.Load(model, adapterDir);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Logits (B, T, V) float32 for <paramref name="inputIds"/> (B, T) without padding.</summary>
    public override Tensor forward(Tensor inputIds) => Forward(inputIds);

    /// <summary>
    /// Logits (B, T, V), float32 as HF's <c>logits.float()</c>. See <see cref="LlamaModel.Forward"/> for the arguments;
    /// for left-padded batches pass <see cref="CausalMask.PositionIdsFromMask"/> positions as HF <c>generate()</c> does.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var h = model.Forward(inputIds, attentionMask, positionIds, cache);                                  // (B, T, C)
        var logits = lm_head is null ? nn.functional.linear(h, model.EmbeddingWeight) : lm_head.forward(h);  // (B, T, V)
        return logits.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The output head (V, C): <c>lm_head.weight</c>, or the embedding table when tied.</summary>
    public Tensor HeadWeight => lm_head?.weight ?? model.EmbeddingWeight;

    /// <summary>
    /// Final-norm hidden states (B, T, C) without the head, for losses that apply the head themselves
    /// (<c>CausalLmLoss.SumNllChunked</c>); the arguments are those of <see cref="Forward"/>.
    /// </summary>
    public Tensor HiddenStates(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null) =>
        model.Forward(inputIds, attentionMask, positionIds);

    /// <summary>A cache sized for this model, for incremental decoding with <see cref="Forward"/>.</summary>
    public KvCache CreateCache() => new(Config.NumHiddenLayers);

    /// <summary>All layers that carry a LoRA adapter, with their module paths (e.g. <c>model.layers.0.self_attn.q_proj</c>).</summary>
    public IEnumerable<(string Name, LoraLinear Layer)> LoraLayers() =>
        named_modules().Where(m => m.module is LoraLinear { HasAdapter: true }).Select(m => (m.name, (LoraLinear)m.module));

    /// <summary>
    /// Bypasses every adapter until the returned scope is disposed, which restores each layer's previous state
    /// (TRL's DPO reference model for PEFT policies: <c>using (model.DisableAdapters()) { ... }</c>).
    /// </summary>
    public IDisposable DisableAdapters()
    {
        var layers = LoraLayers().Select(l => l.Layer).ToList();
        var previous = layers.Select(l => l.AdapterDisabled).ToList();
        foreach (var layer in layers) layer.AdapterDisabled = true;
        return new Restore(() =>
        {
            for (int i = 0; i < layers.Count; i++) layers[i].AdapterDisabled = previous[i];
        });
    }

    /// <summary>Folds every adapter into its base weight (<see cref="LoraLinear.Merge"/>).</summary>
    public void MergeAdapters()
    {
        foreach (var (_, layer) in LoraLayers()) layer.Merge();
    }

    /// <summary>Undoes <see cref="MergeAdapters"/>.</summary>
    public void UnmergeAdapters()
    {
        foreach (var (_, layer) in LoraLayers()) layer.Unmerge();
    }

    /// <summary>Sets requires_grad: only LoRA parameters train when adapters are present.</summary>
    internal void FreezeAllButAdapters()
    {
        foreach (var (name, p) in named_parameters())
        {
            p.requires_grad = name.Contains(".lora_A.") || name.Contains(".lora_B.");
        }
    }

    private sealed class Restore(Action action) : IDisposable
    {
        private Action? _pending = action;

        public void Dispose()
        {
            _pending?.Invoke();
            _pending = null;
        }
    }
}
