using FineTune.MLNet.Metrics;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Tokenization;

namespace FineTune.MLNet.ZeroShot;

/// <summary>Scores the untuned base encoder by embedding similarity to label descriptions (the fine-tuning baseline).</summary>
public static class ZeroShotBaseline
{
    /// <summary>A default description per label: sentiment words get a review sentence, others "This text is about {label}."</summary>
    public static string DefaultDescription(string label) => label.ToLowerInvariant() switch
    {
        "positive" => "A positive review: the customer is happy with the product and recommends it.",
        "negative" => "A negative review: the customer is unhappy with the product and does not recommend it.",
        "neutral" => "A neutral review: the product is average, just okay, neither good nor bad.",
        _ => $"This text is about {label}.",
    };

    /// <summary>Metrics of zero-shot predictions on labelled texts.</summary>
    /// <param name="model"><c>minilm</c> or a checkpoint folder (the untuned encoder).</param>
    /// <param name="labels">Class names in class order.</param>
    /// <param name="truth">0-based class of each text.</param>
    public static ClassificationMetrics Evaluate(string model, IReadOnlyList<string> labels, IReadOnlyList<string> texts, IReadOnlyList<int> truth,
        IReadOnlyDictionary<string, string>? descriptions = null, int maxLength = 128)
    {
        using var pretrained = PretrainedEncoder.Load(model);
        using var encoder = new BertModel(pretrained.Config);
        var encoderWeights = pretrained.Weights.Where(kv => kv.Key.StartsWith("bert.", StringComparison.Ordinal) && !kv.Key.StartsWith("bert.pooler.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["bert.".Length..], kv => kv.Value);
        var report = StateDictLoader.LoadInto(encoder, encoderWeights, strict: false);
        if (report.Missing.Any(k => !k.StartsWith("pooler.", StringComparison.Ordinal)))
            throw new InvalidDataException($"'{pretrained.Source}' lacks encoder weights: {string.Join(", ", report.Missing.Take(10))}.");
        var tokenizer = WordPieceTokenizer.FromVocabStream(new MemoryStream(pretrained.Vocab), pretrained.TokenizerOptions);
        var texts2 = labels.Select(l => descriptions is not null && descriptions.TryGetValue(l, out var d) ? d : DefaultDescription(l)).ToList();
        var classifier = new EmbeddingZeroShotClassifier(encoder, tokenizer, texts2, maxLength);
        return ClassificationMetrics.Compute(truth, classifier.Predict(texts), labels.Count);
    }
}
