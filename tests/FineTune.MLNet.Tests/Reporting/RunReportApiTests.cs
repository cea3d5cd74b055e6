using System.Globalization;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Reporting;
using FineTune.MLNet.Tests.TestSupport;
using FineTune.MLNet.Training.Runs;
using Microsoft.ML;
using Xunit;
using static FineTune.MLNet.Tests.Reporting.ReportFiles;

namespace FineTune.MLNet.Tests.Reporting;

/// <summary>
/// <see cref="RunReport.Write"/> on the run folder of an API fit (<c>TrainerOptions.RunFolder</c>: config.json and
/// metrics.jsonl, no metrics.json or preflight.json), and the errors of folders that are not run folders.
/// </summary>
public sealed class RunReportApiTests
{
    private sealed class PreferenceRow { public string Prompt { get; set; } = ""; public string Chosen { get; set; } = ""; public string Rejected { get; set; } = ""; }

    [Fact]
    public void DpoApiRunFolderReportShowsRewardMarginsAndAccuraciesFromMetricsJsonl()
    {
        var ml = new MLContext(seed: 1);
        var rows = new[]
        {
            new PreferenceRow { Prompt = "The dog was", Chosen = " happy.", Rejected = " sad." },
            new PreferenceRow { Prompt = "Lily felt", Chosen = " glad.", Rejected = " angry." },
        };
        var runDir = Path.Combine(TestTempRoot.NewFolder("report-dpo"), "run");
        var options = new DpoFineTuneOptions
        {
            Model = "tinystories-260k", Epochs = 3, BatchSize = 2, LearningRate = 1e-2, WarmupRatio = 0, Seed = 5, Beta = 0.1,
            Lora = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0, TargetModules = ["all-linear"] },
            RunFolder = new RunFolderSettings { Directory = runDir },
        };
        using var fitted = new DpoFineTuneEstimator(ml, options, ml.Data.LoadFromEnumerable(rows)).Fit(ml.Data.LoadFromEnumerable(rows));

        var files = RunReport.Write(runDir);
        Assert.Equal(Path.Combine(runDir, "report.html"), files.Html);
        var r = new ReportFiles(runDir);
        Assert.StartsWith("# DPO preference alignment: run report", r.Markdown);
        r.AssertText("Written by FineTune.MLNet from config.json, metrics.jsonl.");
        Assert.DoesNotContain("## Preflight", r.Markdown);
        var compared = 0;

        var train = r.Lines("train");
        var eval = r.Lines("eval");
        Assert.Equal(3, train.Count);
        Assert.Equal(3, eval.Count);
        string N(System.Text.Json.JsonElement line, string key) => F4(line.GetProperty(key).GetDouble());
        foreach (var name in new[] { "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected" })
        {
            r.AssertRow(name, N(train[^1], name), N(eval[^1], name));   // last training step, last validation pass
            compared += 2;
        }
        foreach (var e in eval)
        {
            r.AssertRow(e.GetProperty("epoch").GetInt32().ToString(CultureInfo.InvariantCulture), e.GetProperty("step").GetInt64().ToString(CultureInfo.InvariantCulture),
                N(e, "validation_loss"), N(e, "rewards/margins"), N(e, "rewards/accuracies"));
            compared += 5;
        }
        Assert.True(train[^1].GetProperty("rewards/margins").GetDouble() > 0, "the reward margin grew");
        r.AssertText("Base model: tinystories-260k (bundled) from ");   // the bundled name and the folder it was extracted to
        r.AssertRow("DPO β", "0.1");
        r.AssertText("DPO (β = 0.1, label smoothing 0) raises");   // from config.json: an API run has no metrics.json
        r.AssertRow("peak memory (RSS)", "not recorded (the CLI records it in metrics.json as peak_rss_bytes)");
        r.AssertRow("optimizer steps", "3");
        compared += 5;
        // reward margins/accuracies, chosen vs rejected, loss, learning rate, grad norm, tokens/s
        Assert.Equal(6, r.AssertFiguresMatch(ReportCharts.Width, ReportCharts.Height));
        Assert.Equal(32, compared);
    }

    [Fact]
    public void AFolderThatIsNotARunFolderIsNamed()
    {
        var missing = Path.Combine(TestTempRoot.Path, "no-such-run-" + Guid.NewGuid().ToString("N"));
        Assert.Contains(missing, Assert.Throws<DirectoryNotFoundException>(() => RunReport.Write(missing)).Message);
        var empty = TestTempRoot.NewFolder("report-empty");
        var e = Assert.Throws<FileNotFoundException>(() => RunReport.Write(empty));
        Assert.Contains("none of config.json, metrics.jsonl, metrics.json", e.Message);
        Assert.Contains(empty, e.Message);
    }

    [Fact]
    public void ABadMetricsLineIsNamedAndATornLastLineIsDropped()
    {
        var dir = TestTempRoot.NewFolder("report-jsonl");
        const string step1 = """{"type":"train","step":1,"epoch":1,"elapsed_seconds":0.5,"loss":2.5,"learning_rate":0.001,"grad_norm":1.5,"tokens_per_second":100}""";
        const string step2 = """{"type":"train","step":2,"epoch":1,"elapsed_seconds":1.0,"loss":"NaN","learning_rate":0.0005,"grad_norm":1.25,"tokens_per_second":120}""";
        const string eval = """{"type":"eval","step":2,"epoch":1,"elapsed_seconds":1.2,"validation_loss":2.25,"accuracy":0.5,"macro_f1":0.375}""";
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), string.Join("\n", step1, step2, eval, """{"type":"train","step":3,"ep"""));
        var files = RunReport.Write(dir);
        var r = new ReportFiles(dir);
        r.AssertText("The training loss of each of the 2 optimizer steps");   // the torn line is gone, the NaN step counted
        r.AssertRow("1", "2", "2.2500", "0.5000", "0.3750");
        r.AssertRow("training time", "1.2 s");
        Assert.Equal(files.Images.Count, r.AssertFiguresMatch(ReportCharts.Width, ReportCharts.Height));

        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), string.Join("\n", step1, """{"step":2}""", eval));
        var bad = Assert.Throws<InvalidDataException>(() => RunReport.Write(dir));
        Assert.Contains("metrics.jsonl' line 2", bad.Message);
        Assert.Contains("\"type\": \"train\" or \"eval\"", bad.Message);
    }
}
