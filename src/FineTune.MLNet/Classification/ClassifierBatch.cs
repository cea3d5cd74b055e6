using FineTune.MLNet.Tokenization;
using static TorchSharp.torch;

namespace FineTune.MLNet.Classification;

/// <summary>Tokenizes a batch of examples with dynamic padding (to the longest in the batch) into model inputs.</summary>
internal sealed class ClassifierBatch : IDisposable
{
    private ClassifierBatch(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds, Tensor? labels, long tokens)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
        Labels = labels;
        Tokens = tokens;
    }

    public Tensor InputIds { get; }         // (B, T) int64
    public Tensor AttentionMask { get; }    // (B, T) int64
    public Tensor TokenTypeIds { get; }     // (B, T) int64
    public Tensor? Labels { get; }          // (B) int64
    /// <summary>Non-padding tokens in the batch.</summary>
    public long Tokens { get; }

    public static ClassifierBatch Create(WordPieceTokenizer tokenizer, IReadOnlyList<LabeledText> examples, int[] rows, int maxLength, Device device, bool withLabels)
    {
        var texts = rows.Select(r => examples[r].Text).ToArray();
        var pairs = examples[rows[0]].Pair is null ? null : rows.Select(r => examples[r].Pair!).ToArray();
        var encoded = tokenizer.EncodeBatch(texts, pairs, maxLength, PaddingMode.Longest);
        var (ids, mask, types) = encoded.ToTensors(device);
        var labels = withLabels ? tensor(rows.Select(r => (long)examples[r].Label).ToArray(), device: device) : null;
        return new ClassifierBatch(ids, mask, types, labels, encoded.AttentionMask.Sum());
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
        Labels?.Dispose();
    }
}
