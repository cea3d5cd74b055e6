using System.Text.Json.Serialization;

namespace FineTune.MLNet.Formats.HuggingFace;

/// <summary>
/// Architecture of a BERT-style encoder with a sequence-classification head, as in a Hugging Face
/// <c>config.json</c> (<c>BertConfig</c>; DistilBERT configs are mapped onto the same fields). Defaults are
/// transformers' <c>BertConfig</c> defaults (bert-base). Property names map to the HF keys via
/// <see cref="JsonPropertyNameAttribute"/>; read files with <see cref="FromJsonFile"/> and write them with <see cref="ToJson"/>.
/// </summary>
public sealed record BertConfig
{
    /// <summary>Model types this config describes.</summary>
    public static readonly IReadOnlyList<string> SupportedModelTypes = ["bert", "distilbert"];

    /// <summary>Activations of the feed-forward block: <c>gelu</c> (erf), <c>gelu_new</c> (tanh approximation), <c>relu</c>.</summary>
    public static readonly IReadOnlyList<string> SupportedActivations = ["gelu", "gelu_new", "relu"];

    /// <summary><c>bert</c> (also MiniLM and other BERT-architecture models) or <c>distilbert</c>.</summary>
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "bert";

    /// <summary>Rows of the word-embedding table; &gt; 0.</summary>
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 30522;

    /// <summary>Width of every layer (DistilBERT <c>dim</c>); &gt; 0 and divisible by <see cref="NumAttentionHeads"/>.</summary>
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 768;

    /// <summary>Number of transformer layers (DistilBERT <c>n_layers</c>); &gt; 0.</summary>
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Attention heads per layer (DistilBERT <c>n_heads</c>); &gt; 0.</summary>
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 12;

    /// <summary>Feed-forward inner width (DistilBERT <c>hidden_dim</c>); &gt; 0.</summary>
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 3072;

    /// <summary>Feed-forward activation (DistilBERT <c>activation</c>); one of <see cref="SupportedActivations"/>.</summary>
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "gelu";

    /// <summary>Rows of the learned position-embedding table (longest input in tokens); &gt; 0.</summary>
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 512;

    /// <summary>Rows of the token-type (segment) embedding table; 0 for DistilBERT, which has none.</summary>
    [JsonPropertyName("type_vocab_size")] public int TypeVocabSize { get; init; } = 2;

    /// <summary>LayerNorm epsilon; &gt; 0 (DistilBERT uses a fixed 1e-12).</summary>
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-12;

    /// <summary>Id of the padding token; in [0, <see cref="VocabSize"/>).</summary>
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; }

    /// <summary>Number of classes of the classification head; &gt;= 1. Read from <c>id2label</c> (or <c>num_labels</c>).</summary>
    [JsonPropertyName("num_labels")] public int NumLabels { get; init; } = 2;

    /// <summary>Class names by id (HF <c>id2label</c>); null means <c>LABEL_0</c>, <c>LABEL_1</c>, ...</summary>
    [JsonPropertyName("id2label")] public IReadOnlyList<string>? Id2Label { get; init; }

    /// <summary>Dropout after embeddings and sub-layers (DistilBERT <c>dropout</c>); in [0, 1).</summary>
    [JsonPropertyName("hidden_dropout_prob")] public double HiddenDropoutProb { get; init; } = 0.1;

    /// <summary>Dropout on attention probabilities (DistilBERT <c>attention_dropout</c>); in [0, 1).</summary>
    [JsonPropertyName("attention_probs_dropout_prob")] public double AttentionProbsDropoutProb { get; init; } = 0.1;

    /// <summary>Dropout before the classifier (DistilBERT <c>seq_classif_dropout</c>); null means <see cref="HiddenDropoutProb"/>.</summary>
    [JsonPropertyName("classifier_dropout")] public double? ClassifierDropout { get; init; }

    /// <summary>Width of one attention head.</summary>
    /// <summary>Standard deviation of the normal init of new layers (pooler, classifier); HF <c>initializer_range</c>.</summary>
    [JsonPropertyName("initializer_range")] public double InitializerRange { get; init; } = 0.02;

    [JsonIgnore] public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>The class names: <see cref="Id2Label"/>, or <c>LABEL_i</c> for each of <see cref="NumLabels"/>.</summary>
    public IReadOnlyList<string> LabelNames() =>
        Id2Label ?? [.. Enumerable.Range(0, NumLabels).Select(i => $"LABEL_{i}")];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        Require(SupportedModelTypes.Contains(ModelType), nameof(ModelType), $"must be one of {string.Join(", ", SupportedModelTypes)}, got '{ModelType}'");
        Require(VocabSize > 0, nameof(VocabSize), $"must be > 0, got {VocabSize}");
        Require(HiddenSize > 0, nameof(HiddenSize), $"must be > 0, got {HiddenSize}");
        Require(NumHiddenLayers > 0, nameof(NumHiddenLayers), $"must be > 0, got {NumHiddenLayers}");
        Require(NumAttentionHeads > 0, nameof(NumAttentionHeads), $"must be > 0, got {NumAttentionHeads}");
        Require(HiddenSize % NumAttentionHeads == 0, nameof(HiddenSize), $"({HiddenSize}) must be divisible by NumAttentionHeads ({NumAttentionHeads})");
        Require(IntermediateSize > 0, nameof(IntermediateSize), $"must be > 0, got {IntermediateSize}");
        Require(SupportedActivations.Contains(HiddenAct), nameof(HiddenAct), $"must be one of {string.Join(", ", SupportedActivations)}, got '{HiddenAct}'");
        Require(MaxPositionEmbeddings > 0, nameof(MaxPositionEmbeddings), $"must be > 0, got {MaxPositionEmbeddings}");
        Require(ModelType == "distilbert" ? TypeVocabSize == 0 : TypeVocabSize > 0, nameof(TypeVocabSize),
            ModelType == "distilbert" ? $"must be 0 for distilbert, got {TypeVocabSize}" : $"must be > 0 for bert, got {TypeVocabSize}");
        Require(LayerNormEps > 0 && double.IsFinite(LayerNormEps), nameof(LayerNormEps), $"must be a finite number > 0, got {LayerNormEps}");
        Require(PadTokenId >= 0 && PadTokenId < VocabSize, nameof(PadTokenId), $"must be in [0, VocabSize={VocabSize}), got {PadTokenId}");
        Require(NumLabels >= 1, nameof(NumLabels), $"must be >= 1, got {NumLabels}");
        Require(Id2Label is null || Id2Label.Count == NumLabels, nameof(Id2Label), $"has {Id2Label?.Count} names but NumLabels is {NumLabels}");
        Require(IsProbability(HiddenDropoutProb), nameof(HiddenDropoutProb), $"must be in [0, 1), got {HiddenDropoutProb}");
        Require(IsProbability(AttentionProbsDropoutProb), nameof(AttentionProbsDropoutProb), $"must be in [0, 1), got {AttentionProbsDropoutProb}");
        Require(ClassifierDropout is null || IsProbability(ClassifierDropout.Value), nameof(ClassifierDropout), $"must be null or in [0, 1), got {ClassifierDropout}");
        var parameters = ModelMemory.ParameterCount(this);
        Require(parameters <= ModelMemory.MaxParameters, nameof(NumHiddenLayers),
            $"with HiddenSize {HiddenSize}, IntermediateSize {IntermediateSize} and VocabSize {VocabSize} describes {parameters:E2} parameters, more than the {ModelMemory.MaxParameters:E0} any real model has (corrupt or hostile config)");
    }

    /// <summary>Reads a Hugging Face <c>config.json</c> (model_type bert or distilbert) and validates it.</summary>
    public static BertConfig FromJsonFile(string path) => HfEncoderConfig.Read(path);

    /// <summary>
    /// A Hugging Face compatible <c>config.json</c>: BERT keys and <c>BertForSequenceClassification</c>, or DistilBERT
    /// keys and <c>DistilBertForSequenceClassification</c> when <see cref="ModelType"/> is <c>distilbert</c>,
    /// with <c>id2label</c>/<c>label2id</c>.
    /// </summary>
    public string ToJson() => HfEncoderConfig.ToJson(this);

    private static bool IsProbability(double p) => p >= 0 && p < 1;

    private static void Require(bool ok, string field, string problem)
    {
        if (!ok)
        {
            throw new ArgumentException($"BertConfig.{field} {problem}.", field);
        }
    }
}
