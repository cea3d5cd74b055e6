using FineTune.MLNet.Tests.Cli;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.TestSupport;

namespace FineTune.MLNet.Tests.Reporting;

/// <summary>
/// One real <c>finetune classify</c> run shared by the report tests: the bundled MiniLM, a small learnable data set
/// (24 train, 6 validation, 9 test rows), one epoch of 3 steps, max length 16.
/// </summary>
public sealed class ClassifyReportRun
{
    public ClassifyReportRun()
    {
        var dir = TestTempRoot.NewFolder("report-classify");
        Train = Write(dir, "train.csv", TinyClassifierData.Rows(24, 31));
        Write(dir, "valid.csv", TinyClassifierData.Rows(6, 32));
        Write(dir, "test.csv", TinyClassifierData.Rows(9, 33));
        Output = Path.Combine(dir, "out");
        Result = CliRunner.Run("classify", "--train", Train, "--valid", Path.Combine(dir, "valid.csv"), "--test", Path.Combine(dir, "test.csv"),
            "--text-column", "review", "--label-column", "sentiment", "--model", "minilm", "--epochs", "1", "--batch-size", "8", "--max-length", "16",
            "--lr", "1e-4", "--seed", "7", "--output", Output);
    }

    public string Train { get; }

    public string Output { get; }

    public (int ExitCode, string Stdout, string Stderr) Result { get; }

    private static string Write(string dir, string name, List<TinyClassifierData.Row> rows)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllLines(path, ["review,sentiment", .. rows.Select(r => $"{r.Text},{r.Label}")]);
        return path;
    }
}
