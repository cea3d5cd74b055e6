using System.Globalization;
using System.Text.Json;
using FineTune.MLNet.Reporting;
using FineTune.MLNet.Tests.Cli;
using FineTune.MLNet.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;
using static FineTune.MLNet.Tests.Reporting.ReportFiles;

namespace FineTune.MLNet.Tests.Reporting;

/// <summary>
/// The report a real CLI run writes (report.html + report.md) holds the run's numbers as metrics.jsonl, metrics.json,
/// config.json and preflight.json record them, and its figures are the PNGs beside it, embedded byte for byte.
/// </summary>
public sealed class RunReportCliTests(ClassifyReportRun run, ITestOutputHelper output) : IClassFixture<ClassifyReportRun>
{
    [Fact]
    public void ClassifyReportHoldsTheRunsNumbers()
    {
        Assert.True(run.Result.ExitCode == 0, $"exit {run.Result.ExitCode}\n{run.Result.Stdout}\n{run.Result.Stderr}");
        Assert.Contains($"report: {Path.Combine(run.Output, "report.html")} (9 plots)", run.Result.Stdout);
        var r = new ReportFiles(run.Output);
        var compared = 0;

        var train = r.Lines("train");
        var eval = r.Lines("eval");
        Assert.Equal(3, train.Count);
        r.AssertText($"The training loss of each of the {train.Count} optimizer steps");
        compared++;
        Assert.Single(eval);
        foreach (var e in eval)
        {
            r.AssertRow(e.GetProperty("epoch").GetInt32().ToString(CultureInfo.InvariantCulture), e.GetProperty("step").GetInt64().ToString(CultureInfo.InvariantCulture),
                F4(e.GetProperty("validation_loss").GetDouble()), F4(e.GetProperty("accuracy").GetDouble()), F4(e.GetProperty("macro_f1").GetDouble()));
            compared += 5;
        }

        var m = r.Metrics();
        double Get(string key) => m.GetProperty(key).GetDouble();
        r.AssertRow("accuracy", Percent(Get("zero_shot_accuracy")), Percent(Get("accuracy")),
            (100 * (Get("accuracy") - Get("zero_shot_accuracy"))).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " pts");
        r.AssertRow("macro-F1", F4(Get("zero_shot_macro_f1")), F4(Get("macro_f1")), Change(Get("zero_shot_macro_f1"), Get("macro_f1")));
        compared += 6;
        var labels = m.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToList();
        Assert.Equal(["Negative", "Neutral", "Positive"], labels);
        var matrix = m.GetProperty("confusion_matrix").EnumerateArray().Select(row => row.EnumerateArray().Select(c => c.GetInt32()).ToList()).ToList();
        Assert.Equal(9, matrix.Sum(row => row.Sum()));   // every test row
        for (var i = 0; i < labels.Count; i++)
        {
            r.AssertRow(labels[i], F4(m.GetProperty("per_class_f1").GetProperty(labels[i]).GetDouble()));
            r.AssertRow([labels[i], .. matrix[i].Select(c => c.ToString(CultureInfo.InvariantCulture))]);
            compared += 1 + labels.Count;
        }
        r.AssertRow("peak memory (RSS)", ReportFormat.Bytes(Get("peak_rss_bytes")));
        Assert.True(Get("peak_rss_bytes") > 100 << 20, $"peak RSS {Get("peak_rss_bytes")}");
        compared++;

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Output, "config.json")));
        var data = config.RootElement.GetProperty("data")[0];
        Assert.Equal(24, data.GetProperty("rows").GetInt32());
        r.AssertRow("training", run.Train, "24", "review, sentiment", data.GetProperty("sha256").GetString()![..16] + "…");
        r.AssertRow("base model", "minilm (bundled)");
        r.AssertRow("peak learning rate", "0.0001");
        r.AssertRow("--max-length", "16");
        compared += 7;

        using var preflight = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Output, "preflight.json")));
        var warnings = preflight.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        if (warnings.Count == 0) r.AssertText("Warnings: none.");
        foreach (var w in warnings) r.AssertRow(w);
        r.AssertRow("train_tokens_max", preflight.RootElement.GetProperty("facts").GetProperty("train_tokens_max").GetRawText());
        compared += 1 + Math.Max(1, warnings.Count);

        // zero-shot vs tuned, per-class F1, confusion matrix, loss, learning rate, grad norm, tokens/s, validation scores, length histogram
        Assert.Equal(9, r.AssertFiguresMatch(ReportCharts.Width, ReportCharts.Height));
        output.WriteLine($"compared {compared} numbers and texts of the run's files with report.md and report.html, and 9 figures");
    }

    [Fact]
    public void ClassifyReportLoadsEveryImageInChromiumAndIsNotBlank()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.Stderr);
        var r = new ReportFiles(run.Output);
        var images = HeadlessChromium.LoadImages(r.HtmlPath);
        Assert.Equal(9, images.Count);
        Assert.All(images, i => Assert.Equal(new LoadedImage(true, ReportCharts.Width, ReportCharts.Height), i));

        using var shot = HeadlessChromium.Screenshot(r.HtmlPath, Path.Combine(run.Output, "screenshot.png"), 1200, 3000);
        Assert.Equal((1200, 3000), (shot.Width, shot.Height));
        var pixels = ScreenshotPixels.Of(shot);
        output.WriteLine($"screenshot: {pixels.NonWhiteShare:P1} non-white, {pixels.ColouredShare:P2} coloured, luminance variance {pixels.LuminanceVariance:F0}");
        Assert.True(pixels.NonWhiteShare > 0.05, $"non-white share {pixels.NonWhiteShare:P2}: the page looks blank");
        Assert.True(pixels.ColouredShare > 0.01, $"coloured share {pixels.ColouredShare:P2}: no chart is visible");
        Assert.True(pixels.LuminanceVariance > 200, $"luminance variance {pixels.LuminanceVariance:F0}");
    }

    [Fact]
    public void ABrokenImageIsCaughtByTheBrowserProbe()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.Stderr);
        var html = File.ReadAllText(Path.Combine(run.Output, "report.html"));
        const string marker = "data:image/png;base64,";
        var start = html.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        var end = html.IndexOf('"', start);
        var broken = Path.Combine(TestTempRoot.NewFolder("report-broken"), "report.html");
        File.WriteAllText(broken, html[..start] + "iVBORw0KGgoAAAAbroken" + html[end..]);   // a PNG signature, then garbage
        var images = HeadlessChromium.LoadImages(broken);
        Assert.Equal(9, images.Count);
        Assert.Equal(0, images[0].NaturalWidth);
        Assert.All(images.Skip(1), i => Assert.Equal(ReportCharts.Width, i.NaturalWidth));
    }

    [Fact]
    public void SftReportOnTheBundledTinyStoriesHoldsBaseVsTunedAndPerplexity()
    {
        var dir = TestTempRoot.NewFolder("report-sft");
        var data = Path.Combine(dir, "qa.csv");
        File.WriteAllText(data, "question,answer\nWho has a red ball?,Tom has a red ball.\nWhere is the cat?,The cat is in the garden.\nWhat did Lily find?,Lily found a shell.\nWho was sad?,The dog was sad.\n");
        var general = Path.Combine(dir, "general.txt");
        File.WriteAllText(general, "Once upon a time, there was a little girl named Lily.\nShe liked to play in the park with her friends.\n");
        var outDir = Path.Combine(dir, "out");
        var (code, stdout, stderr) = CliRunner.Run("sft", "--model", "tinystories-260k", "--train", data, "--valid", data, "--test", data, "--general-text", general,
            "--prompt-column", "question", "--response-column", "answer", "--lora-rank", "4", "--lora-alpha", "8", "--lora-dropout", "0", "--targets", "all-linear",
            "--epochs", "3", "--lr", "1e-2", "--batch-size", "2", "--max-length", "48", "--max-new-tokens", "6", "--seed", "5", "--output", outDir);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var r = new ReportFiles(outDir);
        var compared = 0;

        var train = r.Lines("train");
        var eval = r.Lines("eval");
        Assert.Equal(6, train.Count);
        Assert.Equal(3, eval.Count);
        r.AssertText($"The training loss of each of the {train.Count} optimizer steps");
        foreach (var e in eval)
            r.AssertRow(e.GetProperty("epoch").GetInt32().ToString(CultureInfo.InvariantCulture), e.GetProperty("step").GetInt64().ToString(CultureInfo.InvariantCulture), F4(e.GetProperty("validation_loss").GetDouble()));
        compared += 1 + 3 * eval.Count;

        var m = r.Metrics();
        double Get(string key) => m.GetProperty(key).GetDouble();
        r.AssertRow("general-text perplexity (forgetting check)", F4(Get("general_perplexity_before")), F4(Get("general_perplexity_after")),
            Change(Get("general_perplexity_before"), Get("general_perplexity_after")));
        foreach (var (key, label) in new[] { ("exact_match", "test exact match"), ("token_f1", "test token F1"), ("rouge_l", "test ROUGE-L") })
            r.AssertRow(label, F4(Get("base_" + key)), F4(Get(key)), Change(Get("base_" + key), Get(key)));
        r.AssertRow("peak memory (RSS)", ReportFormat.Bytes(Get("peak_rss_bytes")));
        compared += 3 + 9 + 1;
        r.AssertText("Base model: tinystories-260k (bundled)");
        r.AssertRow("method", "LoRA: rank 4, alpha 8, dropout 0, targets all-linear");
        compared += 2;

        using var preflight = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "preflight.json")));
        r.AssertText(preflight.RootElement.GetProperty("facts").GetProperty("rendered_example").GetString()!);   // the supervised tokens marked
        compared++;

        // base vs tuned scores, perplexities, loss, learning rate, grad norm, tokens/s, length histogram
        Assert.Equal(7, r.AssertFiguresMatch(ReportCharts.Width, ReportCharts.Height));
        var images = HeadlessChromium.LoadImages(r.HtmlPath);
        Assert.Equal(7, images.Count(i => i == new LoadedImage(true, ReportCharts.Width, ReportCharts.Height)));
        output.WriteLine($"compared {compared} numbers and texts with report.md and report.html; 7 figures, all loaded in chromium");
    }

    private static string Change(double before, double after) => (after - before).ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture);
}
