using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Tokenization;
using FineTune.MLNet.ZeroShot;

/// <summary>
/// The DPO demo's judge: the project's bundled MiniLM sentence encoder (all-MiniLM-L6-v2) used zero-shot. A story's
/// score is its cosine similarity to a description of a happy story minus its similarity to a description of a sad
/// one, so higher = happier mood and ending, a property a reader can check. It is a separate, real model: the decoder
/// being aligned never sees its weights, only its rankings.
/// </summary>
public sealed class StoryJudge : IDisposable
{
    public const string Happy = "A happy story with a happy ending: everyone is glad, smiling, laughing and having fun together.";
    public const string Sad = "A sad story with a bad ending: someone is hurt, scared, crying, angry or lost, and nobody is happy.";

    private readonly BertModel encoder;
    private readonly EmbeddingZeroShotClassifier classifier;

    public StoryJudge()
    {
        using var pretrained = PretrainedEncoder.Load("minilm");
        encoder = new BertModel(pretrained.Config);
        var weights = pretrained.Weights.Where(kv => kv.Key.StartsWith("bert.", StringComparison.Ordinal) && !kv.Key.StartsWith("bert.pooler.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["bert.".Length..], kv => kv.Value);
        var report = StateDictLoader.LoadInto(encoder, weights, strict: false);
        if (report.Missing.Any(k => !k.StartsWith("pooler.", StringComparison.Ordinal)))
            throw new InvalidDataException($"MiniLM lacks encoder weights: {string.Join(", ", report.Missing.Take(5))}.");
        encoder.eval();
        var tokenizer = WordPieceTokenizer.FromVocabStream(new MemoryStream(pretrained.Vocab), pretrained.TokenizerOptions);
        classifier = new EmbeddingZeroShotClassifier(encoder, tokenizer, [Happy, Sad], maxLength: 256);
    }

    /// <summary>Happiness score of each story: cos(story, happy) − cos(story, sad).</summary>
    public double[] Score(IReadOnlyList<string> stories) =>
        classifier.Similarities(stories).Select(s => (double)(s[0] - s[1])).ToArray();

    public void Dispose() => encoder.Dispose();
}
