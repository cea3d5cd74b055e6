using System.Text.Json.Nodes;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Estimators;
using Xunit;

namespace FineTune.MLNet.Tests.Cli;

/// <summary><c>finetune check classify</c>: the preflight alone, exit 0 with warnings, 2 with errors, and OUTPUT/preflight.json.</summary>
public sealed class CheckCliTests
{
    private static (int Code, string Stdout, string Stderr, JsonObject? Report) Check(TempDir dir, string train, string test)
    {
        File.WriteAllText(dir.File("train.csv"), train);
        File.WriteAllText(dir.File("test.csv"), test);
        var output = dir.File("out");
        var (code, stdout, stderr) = CliRunner.Run("check", "classify", "--train", dir.File("train.csv"), "--test", dir.File("test.csv"),
            "--text-column", "text", "--label-column", "label", "--model", TinyClassifierData.ModelFolder(), "--max-length", "4", "--output", output);
        var path = Path.Combine(output, "preflight.json");
        return (code, stdout, stderr, File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsObject() : null);
    }

    [Fact]
    public void DuplicatesAcrossSplitsAndTruncationAreWarningsWithFacts()
    {
        using var dir = new TempDir();
        var train = "text,label\ngood product,pos\nawful,neg\ngreat,pos\nbad,neg\na very long text of many many words here,pos\n";
        var (code, stdout, stderr, report) = Check(dir, train, "text,label\nGood  Product,pos\nawful,neg\nfine,pos\n");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.NotNull(report);
        Assert.Equal("classify", (string?)report!["task"]);
        Assert.Empty(report["errors"]!.AsArray());
        var facts = report["facts"]!.AsObject();
        Assert.Equal(5, (int)facts["train_rows"]!);
        Assert.Equal(3, (int)facts["test_rows"]!);
        Assert.Equal(1, (int)facts["test_duplicates_of_train"]!);             // "awful"
        Assert.Equal(2, (int)facts["test_duplicates_of_train_normalized"]!);  // and "Good  Product" after case and spaces
        Assert.True((int)facts["train_truncated"]! >= 1);                     // the long row at --max-length 4
        var warnings = report["warnings"]!.AsArray().Select(w => (string)w!).ToList();
        Assert.Contains(warnings, w => w.Contains("also occur in training", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("--max-length 4", StringComparison.Ordinal));
    }

    [Fact]
    public void ATestLabelUnseenInTrainingIsAnErrorThatExitsTwo()
    {
        using var dir = new TempDir();
        var (code, stdout, stderr, report) = Check(dir, "text,label\ngood,pos\nbad,neg\n", "text,label\nmeh,neutral\ngood,pos\n");
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        Assert.NotNull(report);
        var errors = report!["errors"]!.AsArray().Select(e => (string)e!).ToList();
        Assert.Contains(errors, e => e.Contains("neutral", StringComparison.Ordinal));
    }
}
