using System.Text.Json.Serialization;

namespace FineTune.MLNet.Formats.HuggingFace;

/// <summary>
/// Architecture of a Llama-family decoder as in a Hugging Face <c>config.json</c>: <c>model_type</c> <c>llama</c>
/// (Llama 2/3, TinyLlama, SmolLM), <c>mistral</c> and <c>qwen2</c> (q/k/v biases). Read files with
/// <see cref="FromJsonFile"/> (missing optional keys take transformers' per-type defaults), write with <see cref="ToJson"/>.
/// Mistral's <c>sliding_window</c> is kept but not applied: the model refuses sequences longer than the window
/// instead (for shorter ones sliding-window attention equals full causal attention).
/// </summary>
public sealed record LlamaConfig
{
    /// <summary>Model types this config describes.</summary>
    public static readonly IReadOnlyList<string> SupportedModelTypes = ["llama", "mistral", "qwen2"];

    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "llama";

    /// <summary>Rows of the embedding table and of the output head; &gt; 0.</summary>
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 32000;

    /// <summary>Residual stream width; &gt; 0.</summary>
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 4096;

    /// <summary>SwiGLU inner width; &gt; 0.</summary>
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 11008;

    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 32;

    /// <summary>Query heads; &gt; 0.</summary>
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 32;

    /// <summary>Key/value heads (grouped-query attention); null means <see cref="NumAttentionHeads"/>. Must divide it.</summary>
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeads { get; init; }

    /// <summary>Width of one head; null means hidden_size / num_attention_heads. Must be even (RoPE pairs).</summary>
    [JsonPropertyName("head_dim")] public int? HeadDim { get; init; }

    /// <summary>RMSNorm epsilon; &gt; 0.</summary>
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;

    /// <summary>RoPE base θ; &gt; 0 (Llama 2: 10000, Llama 3: 500000).</summary>
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000;

    /// <summary>RoPE scaling, or null for none.</summary>
    [JsonPropertyName("rope_scaling")] public RopeScaling? RopeScaling { get; init; }

    /// <summary>Longest context the model was trained for (informational; not enforced).</summary>
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 2048;

    /// <summary>When true the output head shares <c>model.embed_tokens.weight</c> (no <c>lm_head.weight</c> in the checkpoint).</summary>
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }

    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; }

    /// <summary>End-of-sequence ids (the config may hold one id or a list, e.g. Llama 3 instruct).</summary>
    [JsonPropertyName("eos_token_id")] public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; init; }

    /// <summary>Llama/Mistral: biases on q/k/v/o. Qwen2 always has q/k/v biases and none on o, whatever this says.</summary>
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; init; }

    /// <summary>Biases on gate/up/down.</summary>
    [JsonPropertyName("mlp_bias")] public bool MlpBias { get; init; }

    /// <summary>Only <c>silu</c> (SwiGLU) is supported.</summary>
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";

    /// <summary>Stored dtype of the checkpoint (<c>float32</c>, <c>bfloat16</c>, <c>float16</c>), informational.</summary>
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }

    /// <summary>Mistral sliding-window length; null for none.</summary>
    [JsonPropertyName("sliding_window")] public int? SlidingWindow { get; init; }

    [JsonIgnore] public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;

    [JsonIgnore] public int EffectiveHeadDim => HeadDim ?? HiddenSize / NumAttentionHeads;

    /// <summary>Whether q/k/v projections carry a bias.</summary>
    [JsonIgnore] public bool QkvBias => ModelType == "qwen2" || AttentionBias;

    /// <summary>Whether the output projection carries a bias.</summary>
    [JsonIgnore] public bool OutputBias => ModelType != "qwen2" && AttentionBias;

    /// <summary>HF architecture class name written into <c>config.json</c>.</summary>
    [JsonIgnore]
    public string Architecture => ModelType switch
    {
        "qwen2" => "Qwen2ForCausalLM",
        "mistral" => "MistralForCausalLM",
        _ => "LlamaForCausalLM",
    };

    /// <summary>Throws <see cref="ArgumentException"/> whose ParamName is the HF key of the first invalid field.</summary>
    public void Validate()
    {
        Require(SupportedModelTypes.Contains(ModelType), "model_type", $"must be one of {string.Join(", ", SupportedModelTypes)}, got '{ModelType}'");
        Require(VocabSize > 0, "vocab_size", $"must be > 0, got {VocabSize}");
        Require(HiddenSize > 0, "hidden_size", $"must be > 0, got {HiddenSize}");
        Require(IntermediateSize > 0, "intermediate_size", $"must be > 0, got {IntermediateSize}");
        Require(NumHiddenLayers > 0, "num_hidden_layers", $"must be > 0, got {NumHiddenLayers}");
        Require(NumAttentionHeads > 0, "num_attention_heads", $"must be > 0, got {NumAttentionHeads}");
        Require(KeyValueHeads > 0 && NumAttentionHeads % KeyValueHeads == 0, "num_key_value_heads",
            $"({KeyValueHeads}) must be > 0 and divide num_attention_heads ({NumAttentionHeads})");
        Require(HeadDim is not null || HiddenSize % NumAttentionHeads == 0, "hidden_size",
            $"({HiddenSize}) must be divisible by num_attention_heads ({NumAttentionHeads}) when head_dim is not given");
        Require(EffectiveHeadDim > 0 && EffectiveHeadDim % 2 == 0, "head_dim", $"must be a positive even number, got {EffectiveHeadDim}");
        Require(RmsNormEps > 0 && double.IsFinite(RmsNormEps), "rms_norm_eps", $"must be a finite number > 0, got {RmsNormEps}");
        Require(RopeTheta > 0 && double.IsFinite(RopeTheta), "rope_theta", $"must be a finite number > 0, got {RopeTheta}");
        Require(MaxPositionEmbeddings > 0, "max_position_embeddings", $"must be > 0, got {MaxPositionEmbeddings}");
        Require(HiddenAct == "silu", "hidden_act", $"must be 'silu' (SwiGLU), got '{HiddenAct}'");
        Require(BosTokenId is null || (BosTokenId >= 0 && BosTokenId < VocabSize), "bos_token_id", $"must be in [0, vocab_size={VocabSize}), got {BosTokenId}");
        Require(EosTokenIds.All(id => id >= 0 && id < VocabSize), "eos_token_id", $"must be in [0, vocab_size={VocabSize}), got [{string.Join(", ", EosTokenIds)}]");
        Require(PadTokenId is null || (PadTokenId >= 0 && PadTokenId < VocabSize), "pad_token_id", $"must be in [0, vocab_size={VocabSize}), got {PadTokenId}");
        Require(SlidingWindow is null || SlidingWindow > 0, "sliding_window", $"must be null or > 0, got {SlidingWindow}");
        RopeScaling?.Validate();
        var parameters = ModelMemory.ParameterCount(this);
        Require(parameters <= ModelMemory.MaxParameters, "num_hidden_layers",
            $"with hidden_size {HiddenSize}, intermediate_size {IntermediateSize} and vocab_size {VocabSize} describes {parameters:E2} parameters, more than the {ModelMemory.MaxParameters:E0} any real model has (corrupt or hostile config)");
    }

    /// <summary>Reads and validates a Hugging Face <c>config.json</c>; errors name the file and the field.</summary>
    public static LlamaConfig FromJsonFile(string path) => LlamaConfigJson.Read(path);

    /// <summary>A Hugging Face compatible <c>config.json</c> text (with <c>architectures</c>).</summary>
    public string ToJson() => LlamaConfigJson.Write(this);

    private static void Require(bool ok, string key, string problem)
    {
        if (!ok) throw new ArgumentException($"{key} {problem}.", key);
    }
}
