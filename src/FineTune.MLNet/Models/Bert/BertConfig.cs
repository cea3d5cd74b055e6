namespace FineTune.MLNet.Models.Bert;

// TEMPORARY: replaced by the Checkpoints helper's version at merge.
public sealed record BertConfig
{
    public string ModelType { get; init; } = "bert";
    public int VocabSize { get; init; } = 30522;
    public int HiddenSize { get; init; } = 768;
    public int NumHiddenLayers { get; init; } = 12;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 3072;
    public string HiddenAct { get; init; } = "gelu";
    public int MaxPositionEmbeddings { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    public double LayerNormEps { get; init; } = 1e-12;
    public int PadTokenId { get; init; }
    public int NumLabels { get; init; } = 2;
    public IReadOnlyList<string>? Id2Label { get; init; }
    public double HiddenDropoutProb { get; init; } = 0.1;
    public double AttentionProbsDropoutProb { get; init; } = 0.1;
    public double? ClassifierDropout { get; init; }
    public double InitializerRange { get; init; } = 0.02;
    public void Validate() { }
}
