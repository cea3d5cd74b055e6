namespace FineTune.MLNet.Import.MiniLm;

/// <summary>
/// The BERT configuration facts recoverable from an ONNX export's weights. The number of attention heads is
/// not in the weights and is supplied by the caller (12 for all-MiniLM-L6-v2); layer-norm epsilon and the
/// activation are graph constants, not weights (all-MiniLM-L6-v2: eps 1e-12, exact erf GELU).
/// </summary>
public sealed record BertOnnxDimensions(
    int NumLayers,
    int HiddenSize,
    int IntermediateSize,
    int NumAttentionHeads,
    int VocabSize,
    int MaxPositionEmbeddings,
    int TypeVocabSize,
    bool HasPooler);
