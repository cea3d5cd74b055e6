using System.Text.Json;
using FineTune.MLNet.Classification;
using FineTune.MLNet.Serving;
using FineTune.MLNet.Tests.Cli;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.TestSupport;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Xunit;
using static FineTune.MLNet.Tests.TestSupport.Close;

namespace FineTune.MLNet.Tests.Serving;

/// <summary>
/// A classifier fine-tuned on sentence pairs (two text columns) serves from one ML.NET .zip: the reloaded pipeline reads
/// <c>Text</c> and <c>SecondText</c>, encodes <c>[CLS] a [SEP] b [SEP]</c> with token types 0 / 1 and longest-first
/// truncation, and its probabilities equal the TorchSharp classifier's on the same pairs (≤ 1e-4), from the API, from
/// <c>finetune export --format mlnet</c> of the saved folder and from <c>finetune predict --text A --second-text B</c>.
/// </summary>
public sealed class SentencePairServingTests
{
    private sealed class PairRow { public string Premise { get; set; } = ""; public string Hypothesis { get; set; } = ""; public string Label { get; set; } = ""; }

    private static readonly (string First, string Second)[] Pairs =
    [
        ("the product is very good", "okay"),
        ("okay", "This was AWFUL, really awful!"),
        ("zebra quantum excellent", "the product was great"),
        (string.Join(' ', Enumerable.Repeat("the product was really great and", 12)), "bad"),             // first side truncated
        ("good", string.Join(' ', Enumerable.Repeat("awful product, really bad", 15))),                   // second side truncated
        (string.Join(' ', Enumerable.Repeat("great", 40)), string.Join(' ', Enumerable.Repeat("bad", 40))),  // both truncated
    ];

    [Fact]
    public void APairClassifierZipReloadsAndMatchesTorchSharpOnPairsInTheApiAndInFinetunePredict()
    {
        var ml = new MLContext(seed: 1);
        var rows = TinyClassifierData.Rows(32, 31).Select((r, i) => new PairRow { Premise = TinyClassifierData.Rows(32, 32)[i].Text, Hypothesis = r.Text, Label = r.Label }).ToList();
        var options = new FineTune.MLNet.Estimators.TextClassificationFineTuneOptions
        {
            Model = TinyClassifierData.ModelFolder(), TextColumnName = "Premise", SecondTextColumnName = "Hypothesis",
            Epochs = 2, BatchSize = 8, LearningRate = 5e-3, MaxLength = 48, Seed = 3,
        };
        var chain = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.FineTuneTextClassifier(options)).Fit(ml.Data.LoadFromEnumerable(rows));
        var transformer = Assert.IsType<TextClassificationTransformer>(chain.LastTransformer);
        string[] first = [.. Pairs.Select(p => p.First)], second = [.. Pairs.Select(p => p.Second)];
        var expected = transformer.Classifier.PredictProbabilities(first, second);
        int labels = transformer.Classifier.Labels.Count;

        // The second text changes the answer: a pipeline that dropped it (or its token types) would not match.
        var singles = transformer.Classifier.PredictProbabilities(first);
        double effect = expected.Zip(singles).Max(p => p.First.Zip(p.Second).Max(v => Math.Abs(v.First - v.Second)));
        Assert.True(effect > 1e-3, $"pairs and single texts differ by only {effect:E2}");

        var dir = TestTempRoot.NewFolder("serving-pairs");
        var zip = Path.Combine(dir, "pairs.zip");
        transformer.ToServingPipeline(new MLContext(seed: 2)).Save(zip);
        Assert.Equal(labels * Pairs.Length, AssertZipMatches(zip, expected));

        // The saved folder (with its column names) exported by the CLI serves pairs too.
        var folder = Path.Combine(dir, "model");
        transformer.Save(folder);
        var cliZip = Path.Combine(dir, "cli.zip");
        var (code, stdout, stderr) = CliRunner.Run("export", "--format", "mlnet", "--model", folder, "--output", cliZip);
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal(labels * Pairs.Length, AssertZipMatches(cliZip, expected));

        Assert.Equal(labels * Pairs.Length, AssertPredictMatches(cliZip, expected));
        AssertPredictEvaluatesAPairTable(cliZip, dir, transformer.Classifier.Labels, expected);
        AssertPredictNeedsTheSecondText(cliZip);
        transformer.Dispose();
    }

    /// <summary><c>finetune predict --text A --second-text B ...</c> in a fresh process; returns how many probabilities were compared.</summary>
    private static int AssertPredictMatches(string zip, float[][] expected)
    {
        string[] args = ["predict", "--model", zip, .. Pairs.SelectMany(p => new[] { "--text", p.First, "--second-text", p.Second })];
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.True(code == 0, stdout + stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Pairs.Length, lines.Length);
        var compared = 0;
        for (var i = 0; i < Pairs.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            Assert.Equal(Pairs[i].First, json.RootElement.GetProperty("text").GetString());
            Assert.Equal(Pairs[i].Second, json.RootElement.GetProperty("second_text").GetString());
            var p = json.RootElement.GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            compared += AssertAllClose(expected[i], p, atol: 1e-4, what: $"predict pair {i} probabilities");
        }
        return compared;
    }

    /// <summary><c>--test FILE --second-text-column</c>: labels set to the API's predictions, so a correct pair evaluation scores 1.</summary>
    private static void AssertPredictEvaluatesAPairTable(string zip, string dir, IReadOnlyList<string> names, float[][] expected)
    {
        var table = Path.Combine(dir, "pairs.tsv");
        File.WriteAllLines(table, Pairs.Select((p, i) => $"{p.First}\t{p.Second}\t{names[ClassifierInference.ArgMax(expected[i])]}").Prepend("a\tb\ty"));
        var (code, stdout, stderr) = CliRunner.Run("predict", "--model", zip, "--test", table, "--text-column", "a", "--second-text-column", "b", "--label-column", "y");
        Assert.True(code == 0, stdout + stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(Pairs.Length, json.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(1.0, json.RootElement.GetProperty("accuracy").GetDouble());
    }

    /// <summary>A pair model given no (or too few) second texts fails naming the flag, before printing any prediction.</summary>
    private static void AssertPredictNeedsTheSecondText(string zip)
    {
        var (code, stdout, stderr) = CliRunner.Run("predict", "--model", zip, "--text", "a", "--text", "b", "--second-text", "c");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("--second-text: this model is a sentence-pair classifier", stderr);
        Assert.Contains("expected one --second-text per --text, got 1 for 2 --text", stderr);

        (code, _, stderr) = CliRunner.Run("predict", "--model", zip, "--test", "unused.tsv");
        Assert.Equal(2, code);
        Assert.Contains("--second-text-column: this model is a sentence-pair classifier", stderr);
    }

    /// <summary>Plain ML.NET load of <paramref name="zip"/>; returns how many probabilities were compared.</summary>
    private static int AssertZipMatches(string zip, float[][] expected)
    {
        var ml = new MLContext(seed: 3);
        ClassifierServingPipeline.RegisterComponents(ml);
        var model = ml.Model.Load(zip, out var schema);
        Assert.Equal(["Text", "SecondText"], schema.Select(c => c.Name));
        using var engine = ml.Model.CreatePredictionEngine<ServingPairInput, ServingPrediction>(model, schema);
        var compared = 0;
        for (var i = 0; i < Pairs.Length; i++)
        {
            var p = engine.Predict(new ServingPairInput { Text = Pairs[i].First, SecondText = Pairs[i].Second });
            compared += AssertAllClose(expected[i], p.Score, atol: 1e-4, what: $"pair {i} probabilities");
        }
        return compared;
    }
}
