using TorchSharp.Modules;
using static TorchSharp.torch;
using FineTune.MLNet.Formats.HuggingFace;

namespace FineTune.MLNet.Models.Bert;

/// <summary>Word + position (+ token type) embeddings, LayerNorm, dropout. HF <c>BertEmbeddings</c>.</summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding? token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;

    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = config.TypeVocabSize > 0 ? nn.Embedding(config.TypeVocabSize, config.HiddenSize) : null;
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <param name="inputIds">(B, T) int64.</param>
    /// <param name="tokenTypeIds">(B, T) int64, or null for all zeros.</param>
    /// <returns>(B, T, H).</returns>
    public override Tensor forward(Tensor inputIds, Tensor? tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        var seqLen = inputIds.shape[1];
        var positions = arange(seqLen, dtype: ScalarType.Int64, device: inputIds.device);   // (T)
        var x = word_embeddings.forward(inputIds) + position_embeddings.forward(positions);  // (B, T, H)
        if (token_type_embeddings is not null)
        {
            x = tokenTypeIds is null
                ? x + token_type_embeddings.weight![0]                                           // (B, T, H)
                : x + token_type_embeddings.forward(tokenTypeIds);
        }
        return dropout.forward(LayerNorm.forward(x)).MoveToOuterDisposeScope();
    }
}
