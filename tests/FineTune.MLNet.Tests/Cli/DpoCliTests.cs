using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Tests.TestSupport;
using System.Text.Json;
using FineTune.MLNet.Formats.SafeTensors;
using Xunit;
using FineTune.MLNet.Tests.Sft;

namespace FineTune.MLNet.Tests.Cli;

public sealed class DpoCliTests
{
    private static readonly string[] TrlMetricNames =
        ["loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"];

    /// <summary>A new folder under the test run's temp root (deleted when the test process exits).</summary>
    private static string TempDir(string prefix) => TestTempRoot.NewFolder(prefix);

    /// <summary>Four preferences; the second prompt is a quoted field with a line break, a comma and a doubled quote.</summary>
    private static readonly (string Prompt, string Chosen, string Rejected)[] Preferences =
    [
        ("What colour is the robot?", "blue", "red"),
        ("How many wheels,\nin \"total\"?", "six", "two"),
        ("Who built it?", "Ada", "Bob"),
        ("Where is the office?", "Lyon", "Paris"),
    ];

    private static string Quote(string field) => "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string WritePreferences(string dir)
    {
        var path = Path.Combine(dir, "prefs.csv");
        var lines = Preferences.Select(p => $"{Quote(p.Prompt)},{p.Chosen},{p.Rejected}");
        File.WriteAllText(path, "question,good,bad\r\n" + string.Join("\r\n", lines) + "\r\n");
        return path;
    }

    private static string[] Arguments(string model, string train, string output, params string[] extra) =>
    [
        "dpo", "--model", model, "--train", train, "--prompt-column", "question", "--chosen-column", "good", "--rejected-column", "bad",
        "--lora-rank", "8", "--lora-alpha", "16", "--lora-dropout", "0", "--targets", "all-linear", "--epochs", "40", "--lr", "1e-2",
        "--batch-size", "4", "--max-length", "64", "--seed", "5", "--output", output, .. extra,
    ];

    [Fact]
    public void DpoTrainsSavesAPeftAdapterAndWritesTrlMetrics()
    {
        var dir = TempDir("cli-dpo");
        var train = WritePreferences(dir);
        var output = Path.Combine(dir, "out");

        var (code, stdout, stderr) = CliRunner.Run(Arguments(TinyLlamaFolder.Create(), train, output, "--valid", train, "--beta", "0.1"));
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("step 40/40", stderr);   // the progress line, with the reward margin
        Assert.Contains("margin ", stderr);

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var m = metrics.RootElement;
        double Get(string key) => m.TryGetProperty(key, out var v) ? v.GetDouble() : throw new Xunit.Sdk.XunitException($"metrics.json lacks '{key}': {m}");
        foreach (var name in TrlMetricNames)
        {
            Assert.True(double.IsFinite(Get(name)), name);
            Assert.True(double.IsFinite(Get("eval_" + name)), "eval_" + name);
        }
        Assert.Equal(1.0, Get("rewards/accuracies"));
        Assert.True(Get("rewards/margins") > 0, $"final margin {Get("rewards/margins")}");
        // Means of float32 rewards (~10): a margin averaged per pair differs from the difference of the means by a few ulps.
        AssertClose(Get("rewards/chosen") - Get("rewards/rejected"), Get("rewards/margins"), atol: 1e-6, rtol: 1e-5, what: "rewards/margins");
        Assert.True(Get("loss") < 0.5 * Math.Log(2), $"final loss {Get("loss")}");
        Assert.Equal(1.0, Get("eval_rewards/accuracies"));
        Assert.True(Get("train_seconds") > 0);
        Assert.True(Get("train_tokens_per_second") > 0);
        Assert.Equal(4, Get("train_rows"));   // the multi-line field is one row

        var history = m.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(40, history.Count);
        Assert.Equal(Enumerable.Range(1, 40), history.Select(h => h.GetProperty("step").GetInt32()));
        var accuracies = history.Select(h => h.GetProperty("rewards/accuracies").GetDouble()).ToList();
        var margins = history.Select(h => h.GetProperty("rewards/margins").GetDouble()).ToList();
        AssertClose(0.0, margins[0], atol: 1e-6, what: "step-1 margin");   // fresh adapters: policy = reference at step 1
        Assert.Equal(0.0, accuracies[0]);        // no chosen reward strictly above its rejected one yet
        Assert.Equal(1.0, accuracies[^1]);
        Assert.Equal(Get("rewards/margins"), margins[^1]);
        Assert.True(margins[^1] > margins[1], $"margin {margins[1]} -> {margins[^1]}");
        Assert.Equal(40, m.GetProperty("validation_history").GetArrayLength());

        var adapter = Path.Combine(output, "adapter");
        Assert.True(File.Exists(Path.Combine(adapter, "adapter_config.json")));
        var keys = SafeTensorsFile.ReadHeader(Path.Combine(adapter, "adapter_model.safetensors")).Keys.ToList();
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", keys);
        Assert.Contains("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight", keys);
        Assert.Equal(2 * 7 * 2, keys.Count);
    }

    [Fact]
    public void DpoNamesAMissingChosenColumn()
    {
        var dir = TempDir("cli-dpo-bad");
        var train = WritePreferences(dir);
        var args = Arguments(TinyLlamaFolder.Create(), train, Path.Combine(dir, "out"));
        args[Array.IndexOf(args, "good")] = "liked";
        var (code, _, stderr) = CliRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Contains("--chosen-column", stderr);
        Assert.Contains("'liked'", stderr);
        Assert.Contains("'good'", stderr);   // lists the columns that exist
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }

    [Theory]
    [InlineData("--beta", "0", "(0, 100]")]
    [InlineData("--label-smoothing", "0.5", "[0, 0.5)")]
    [InlineData("--adapter", "/nonexistent/sft-adapter", "does not exist")]
    public void DpoNamesABadOption(string option, string value, string expected)
    {
        var dir = TempDir("cli-dpo-option");
        var train = WritePreferences(dir);
        var (code, _, stderr) = CliRunner.Run(Arguments(TinyLlamaFolder.Create(), train, Path.Combine(dir, "out"), option, value));
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {option}", stderr);
        Assert.Contains(expected, stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }
}
