using System.Text.Json.Nodes;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.TestSupport;
using Xunit;

namespace FineTune.MLNet.Tests.Cli;

/// <summary>
/// <c>finetune classify|sft --config RUN/config.json --output NEW</c> repeats a run: the same resolved options, model
/// and data fingerprints, and the same losses and metrics step by step (training is seeded and deterministic on CPU: the
/// values are compared with a tolerance of 1e-9, and came out bitwise equal when this test was written). The repeat
/// needs a new <c>--output</c>: the recorded one is the original run's folder.
/// </summary>
public sealed class RepeatRunCliTests
{
    private static JsonObject Config(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!.AsObject();

    /// <summary>Every number of every metrics.jsonl line but the timings; returns how many were compared.</summary>
    private static int AssertSameMetrics(string first, string second)
    {
        var a = File.ReadAllLines(Path.Combine(first, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var b = File.ReadAllLines(Path.Combine(second, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(a.Count, b.Count);
        int compared = 0;
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal((string?)a[i]["type"], (string?)b[i]["type"]);
            foreach (var (name, value) in a[i])
            {
                if (name is "type" or "elapsed_seconds" or "tokens_per_second") continue;
                Close.AssertClose((double)value!, (double)b[i][name]!, atol: 1e-9, rtol: 1e-9, what: $"metrics.jsonl line {i + 1} {name}");
                compared++;
            }
        }
        return compared;
    }

    /// <summary>The two configs agree on options, model and data, and on every command-line argument but --output.</summary>
    private static void AssertSameConfig(string first, string second)
    {
        var a = Config(first);
        var b = Config(second);
        foreach (var section in new[] { "options", "model", "data", "estimator", "library" })
            Assert.True(JsonNode.DeepEquals(a[section], b[section]), $"config.json '{section}' differs:\n{a[section]}\n{b[section]}");
        var argsA = a["command_line"]!["arguments"]!.AsObject();
        var argsB = b["command_line"]!["arguments"]!.AsObject();
        Assert.Equal(argsA.Select(p => p.Key), argsB.Select(p => p.Key));
        foreach (var (name, value) in argsA)
        {
            if (name == "output") Assert.NotEqual((string?)value, (string?)argsB[name]);
            else Assert.True(JsonNode.DeepEquals(value, argsB[name]), $"argument '{name}': {value?.ToJsonString()} vs {argsB[name]?.ToJsonString()}");
        }
    }

    [Fact]
    public void AClassifyRunRepeatsFromItsConfigJsonAndShowsPlainProgress()
    {
        using var dir = new TempDir("repeat-classify");
        string Csv(string name, int rows, int seed)
        {
            File.WriteAllLines(dir.File(name), TinyClassifierData.Rows(rows, seed).Select(r => $"\"{r.Text}\",{r.Label}").Prepend("text,label"));
            return dir.File(name);
        }
        var first = dir.File("run");
        var (code, stdout, stderr) = CliRunner.Run("classify", "--train", Csv("train.csv", 16, 1), "--valid", Csv("valid.csv", 6, 2), "--test", Csv("test.csv", 6, 3),
            "--text-column", "text", "--label-column", "label", "--model", TinyClassifierData.ModelFolder(), "--epochs", "2",
            "--batch-size", "8", "--max-length", "16", "--output", first);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        // stderr is redirected here, so progress is plain lines: steps with step/total, loss, ETA; one evaluation line per epoch.
        var lines = stderr.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var steps = lines.Where(l => l.StartsWith("step ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["step 1/4", "step 2/4", "step 3/4", "step 4/4"], steps.Select(l => string.Join(' ', l.Split(' ')[..2])));
        Assert.All(steps, l => Assert.Matches(@"^step \d/4 epoch [12] loss \d+\.\d{4} lr \S+ \d+ tok/s ETA (--:--|\d+:\d\d:\d\d)$", l));
        var evaluations = lines.Where(l => l.Contains(" evaluation: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, evaluations.Count);
        Assert.All(evaluations, l => Assert.Matches(@"^epoch [12] evaluation: train loss \S+, validation loss \S+, accuracy \S+%, macro-F1 \S+$", l));
        Assert.DoesNotContain('\r', stderr);   // no redrawn line in a log

        var second = dir.File("again");
        var repeat = CliRunner.Run("classify", "--config", Path.Combine(first, "config.json"), "--output", second);
        Assert.True(repeat.ExitCode == 0, $"exit {repeat.ExitCode}\n{repeat.Stdout}\n{repeat.Stderr}");
        AssertSameConfig(first, second);
        Assert.Equal(4 * 5 + 2 * 5, AssertSameMetrics(first, second));   // 4 steps × (step, epoch, loss, lr, grad_norm), 2 evaluations × (step, epoch, loss, accuracy, macro-F1)
        var m1 = JsonNode.Parse(File.ReadAllText(Path.Combine(first, "metrics.json")))!;
        var m2 = JsonNode.Parse(File.ReadAllText(Path.Combine(second, "metrics.json")))!;
        foreach (var name in new[] { "accuracy", "macro_f1", "log_loss" }) Close.AssertClose((double)m1[name]!, (double)m2[name]!, atol: 1e-9, what: name);

        var inPlace = CliRunner.Run("classify", "--config", Path.Combine(first, "config.json"));
        Assert.Equal(2, inPlace.ExitCode);
        Assert.Contains("give --output NEW_FOLDER to repeat the run", inPlace.Stderr);
    }

    [Fact]
    public void AnSftRunOnTheBundledModelRepeatsWithTheModelsName()
    {
        using var dir = new TempDir("repeat-sft");
        File.WriteAllText(dir.File("train.csv"), "prompt,response\nOnce upon a time,there was a cat.\nTom had a ball,and he liked it.\nThe sun was hot,so they swam.\n");
        var first = dir.File("run");
        var (code, stdout, stderr) = CliRunner.Run("sft", "--model", "tinystories-260k", "--train", dir.File("train.csv"), "--prompt-column", "prompt",
            "--response-column", "response", "--lora-rank", "2", "--targets", "q_proj,v_proj", "--epochs", "2", "--batch-size", "2", "--max-length", "32", "--output", first);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Equal("tinystories-260k", (string?)Config(first)["command_line"]!["arguments"]!["model"]);   // a name, not a path under the working folder

        var second = dir.File("again");
        var repeat = CliRunner.Run("sft", "--config", Path.Combine(first, "config.json"), "--output", second);
        Assert.True(repeat.ExitCode == 0, $"exit {repeat.ExitCode}\n{repeat.Stdout}\n{repeat.Stderr}");
        AssertSameConfig(first, second);
        Assert.Equal(4 * 5, AssertSameMetrics(first, second));   // 2 epochs × 2 steps × (step, epoch, loss, lr, grad_norm)
    }
}
