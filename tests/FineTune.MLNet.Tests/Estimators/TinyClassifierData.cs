using FineTune.MLNet.Tests.TestSupport;
using Microsoft.ML;

namespace FineTune.MLNet.Tests.Estimators;

/// <summary>
/// A tiny HF BERT checkpoint folder (the numpy-reference fixture plus a small WordPiece vocabulary) and a small
/// learnable sentiment-like data set, so estimator tests train in seconds.
/// </summary>
internal static class TinyClassifierData
{
    private static readonly string[] Words =
    [
        "good", "great", "love", "excellent", "perfect", "happy", "bad", "awful", "hate", "broken", "terrible", "refund",
        "okay", "average", "fine", "normal", "the", "product", "is", "was", "it", "this", "very", "really", "and", "a",
    ];

    public static readonly string[] Labels = ["Negative", "Neutral", "Positive"];

    /// <summary>Creates (once per call) a model folder: tiny-bert config + weights and a vocab.txt.</summary>
    public static string ModelFolder()
    {
        var dir = TestTempRoot.NewFolder("tiny-bert");
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-bert");
        File.Copy(Path.Combine(fixture, "config.json"), Path.Combine(dir, "config.json"));
        File.Copy(Path.Combine(fixture, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        var vocab = new List<string> { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!" };
        vocab.AddRange(Words);
        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), vocab);
        return dir;
    }

    public sealed class Row
    {
        public string Text { get; set; } = "";
        public string Label { get; set; } = "";
    }

    /// <summary>Rows whose label follows from their words (deterministic for a seed).</summary>
    public static List<Row> Rows(int count, int seed)
    {
        var rng = new Random(seed);
        string[][] cue = [["bad", "awful", "hate", "broken", "terrible", "refund"], ["okay", "average", "fine", "normal"], ["good", "great", "love", "excellent", "perfect", "happy"]];
        string[] filler = ["the", "product", "is", "was", "it", "this", "very", "really", "and", "a"];
        var rows = new List<Row>();
        for (var i = 0; i < count; i++)
        {
            var c = i % 3;
            var words = Enumerable.Range(0, 2 + rng.Next(6)).Select(_ => filler[rng.Next(filler.Length)]).ToList();
            words.Insert(rng.Next(words.Count + 1), cue[c][rng.Next(cue[c].Length)]);
            if (rng.Next(2) == 0) words.Insert(rng.Next(words.Count + 1), cue[c][rng.Next(cue[c].Length)]);
            rows.Add(new Row { Text = string.Join(' ', words), Label = Labels[c] });
        }
        return rows;
    }

    public static IDataView Load(MLContext ml, IEnumerable<Row> rows) => ml.Data.LoadFromEnumerable(rows);
}
