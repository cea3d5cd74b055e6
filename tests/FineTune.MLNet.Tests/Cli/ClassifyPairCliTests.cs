using System.Text.Json;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.TestSupport;
using Xunit;

namespace FineTune.MLNet.Tests.Cli;

/// <summary>
/// <c>finetune classify --second-text-column</c>: a sentence-pair task whose label is the sentiment of the second text
/// while the first is a distractor with a random sentiment, so a model that read only the first text would be at chance.
/// The run trains on pairs, beats the majority-class baseline it reports instead of zero-shot, writes its report, and
/// the saved model, exported to an ML.NET .zip, serves pairs through <c>finetune predict --second-text-column</c> with the
/// same test accuracy.
/// </summary>
public sealed class ClassifyPairCliTests
{
    private static string WritePairs(string dir, string name, int count, int seed)
    {
        var rows = TinyClassifierData.Rows(count, seed).Where(r => r.Label != "Neutral").ToList();
        var distractors = TinyClassifierData.Rows(count, seed + 100);
        var path = Path.Combine(dir, name);
        File.WriteAllLines(path, ["first,second,label", .. rows.Select((r, i) => $"{distractors[i].Text},{r.Text},{r.Label}")]);
        return path;
    }

    [Fact]
    public void TrainsOnPairsBeatsTheMajorityBaselineAndServesPairs()
    {
        var dir = TestTempRoot.NewFolder("classify-pairs");
        var train = WritePairs(dir, "train.csv", 300, 41);
        var test = WritePairs(dir, "test.csv", 90, 42);
        var output = Path.Combine(dir, "out");
        var (code, stdout, stderr) = CliRunner.Run("classify", "--train", train, "--test", test, "--text-column", "first", "--second-text-column", "second",
            "--label-column", "label", "--model", TinyClassifierData.ModelFolder(), "--epochs", "12", "--lr", "5e-3", "--batch-size", "8",
            "--max-length", "32", "--seed", "3", "--output", output);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("majority-class: accuracy", stdout);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal("majority_class", root.GetProperty("baseline").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("zero_shot_accuracy").ValueKind);
        double accuracy = root.GetProperty("accuracy").GetDouble(), majority = root.GetProperty("majority_class_accuracy").GetDouble();
        Assert.InRange(majority, 0.3, 0.7);                       // two balanced classes
        Assert.True(accuracy >= 0.8, $"pair accuracy {accuracy:P1} (majority class {majority:P1})");
        Assert.True(File.Exists(Path.Combine(output, "report.html")), "the run report");
        Assert.Contains("majority class", File.ReadAllText(Path.Combine(output, "report.html")));

        var compare = CliRunner.Run("plan", "--compare", output, "--json");   // the cost/quality table reads pair runs too
        Assert.True(compare.ExitCode == 0, $"exit {compare.ExitCode}\n{compare.Stderr}");
        var row = System.Text.Json.Nodes.JsonNode.Parse(compare.Stdout)!.AsArray().Single()!;
        Assert.Equal("classify", (string?)row["task"]);
        Assert.Equal(root.GetProperty("macro_f1").GetDouble(), (double)row["tuned"]!);
        Assert.Equal(root.GetProperty("majority_class_macro_f1").GetDouble(), (double)row["baseline"]!);
        Assert.Contains("(majority class)", CliRunner.Run("plan", "--compare", output).Stdout);

        var zip = Path.Combine(dir, "pairs.zip");
        var (exportCode, exportOut, exportErr) = CliRunner.Run("export", "--format", "mlnet", "--model", Path.Combine(output, "model", "segment-1-text-classifier"), "--output", zip);
        Assert.True(exportCode == 0, $"exit {exportCode}\n{exportOut}\n{exportErr}");
        var (predictCode, predictOut, predictErr) = CliRunner.Run("predict", "--model", zip, "--test", test,
            "--text-column", "first", "--second-text-column", "second", "--label-column", "label");
        Assert.True(predictCode == 0, $"exit {predictCode}\n{predictOut}\n{predictErr}");
        using var served = JsonDocument.Parse(predictOut);
        Assert.Equal(accuracy, served.RootElement.GetProperty("accuracy").GetDouble(), 6);
    }

    [Fact]
    public void NamesTheFileAndColumnWhenTheSecondTextIsMissing()
    {
        var dir = TestTempRoot.NewFolder("classify-pairs-bad");
        var train = WritePairs(dir, "train.csv", 12, 43);
        var test = Path.Combine(dir, "test.csv");
        File.WriteAllLines(test, ["first,label", "good product,Positive", "bad product,Negative"]);
        var (code, _, stderr) = CliRunner.Run("classify", "--train", train, "--test", test, "--text-column", "first", "--second-text-column", "second",
            "--label-column", "label", "--model", TinyClassifierData.ModelFolder(), "--output", Path.Combine(dir, "out"));
        Assert.Equal(2, code);
        Assert.Contains("'second'", stderr);
        Assert.Contains("test.csv", stderr);

        var (sameCode, _, sameErr) = CliRunner.Run("classify", "--train", train, "--test", train, "--text-column", "first", "--second-text-column", "first",
            "--label-column", "label", "--model", TinyClassifierData.ModelFolder(), "--output", Path.Combine(dir, "out2"));
        Assert.Equal(2, sameCode);
        Assert.Contains("--second-text-column", sameErr);
    }
}
