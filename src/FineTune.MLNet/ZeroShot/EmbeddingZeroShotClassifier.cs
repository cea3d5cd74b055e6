using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Tokenization;

namespace FineTune.MLNet.ZeroShot;

/// <summary>
/// The untuned base model's zero-shot skill: each text goes to the label whose description embedding is most similar
/// (cosine) to the text's embedding. This is the baseline fine-tuning is compared with.
/// </summary>
public sealed class EmbeddingZeroShotClassifier
{
    private readonly SentenceEmbedder _embedder;
    private readonly float[][] _labelEmbeddings;

    /// <param name="descriptions">One description per class, in class order (e.g. "a positive review: the buyer is happy").</param>
    public EmbeddingZeroShotClassifier(BertModel encoder, WordPieceTokenizer tokenizer, IReadOnlyList<string> descriptions, int maxLength = 256)
    {
        if (descriptions.Count < 2) throw new ArgumentException("Zero-shot classification needs at least two label descriptions.", nameof(descriptions));
        _embedder = new SentenceEmbedder(encoder, tokenizer, maxLength);
        _labelEmbeddings = _embedder.Embed(descriptions);
    }

    /// <summary>Cosine similarity of each text to each label description, (N, C).</summary>
    public float[][] Similarities(IReadOnlyList<string> texts)
    {
        var embeddings = _embedder.Embed(texts);
        return embeddings.Select(e => _labelEmbeddings.Select(l => Dot(e, l)).ToArray()).ToArray();
    }

    /// <summary>The most similar label index of each text.</summary>
    public int[] Predict(IReadOnlyList<string> texts) =>
        Similarities(texts).Select(s => Array.IndexOf(s, s.Max())).ToArray();

    private static float Dot(float[] a, float[] b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
