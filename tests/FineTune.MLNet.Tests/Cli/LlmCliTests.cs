using FineTune.MLNet.Tests.TestSupport;
using System.Text.Json;
using FineTune.MLNet.Formats.SafeTensors;
using Xunit;
using FineTune.MLNet.Tests.Llama;
using FineTune.MLNet.Tests.Sft;

namespace FineTune.MLNet.Tests.Cli;

public sealed class LlmCliTests
{
    /// <summary>A new folder under the test run's temp root (deleted when the test process exits).</summary>
    private static string TempDir(string prefix) => TestTempRoot.NewFolder(prefix);

    /// <summary>Runs <c>finetune logits</c> and checks every logit against the numpy reference of golden.json.</summary>
    private static void AssertLogitsMatch(string goldenKey, params string[] modelArgs)
    {
        var ids = LlamaFixtures.Ids(goldenKey);
        var expected = LlamaFixtures.Logits(goldenKey);
        for (var s = 0; s < ids.Length; s++)
        {
            var (code, stdout, stderr) = CliRunner.Run(["logits", .. modelArgs, "--ids", string.Join(",", ids[s])]);
            Assert.True(code == 0, $"exit {code}\n{stderr}");
            using var doc = JsonDocument.Parse(stdout);
            var rows = doc.RootElement.GetProperty("logits").EnumerateArray().ToArray();
            Assert.Equal(expected[s].Length, rows.Length);
            double max = 0;
            for (var t = 0; t < rows.Length; t++)
            {
                var row = rows[t].EnumerateArray().Select(v => v.GetDouble()).ToArray();
                Assert.Equal(expected[s][t].Length, row.Length);
                for (var v = 0; v < row.Length; v++) max = Math.Max(max, Math.Abs(row[v] - expected[s][t][v]));
            }
            Assert.True(max < 1e-4, $"{goldenKey} sequence {s}: max |logit − reference| = {max}");
        }
    }

    [Fact]
    public void LogitsMatchTheNumpyReference() =>
        AssertLogitsMatch("llama", "--model", LlamaFixtures.Dir("llama"));

    [Theory]
    [InlineData("lora")]
    [InlineData("lora-rslora")]
    public void LogitsWithAPeftAdapterMatchTheReferenceMergedModel(string adapter) =>
        AssertLogitsMatch("llama+" + adapter, "--model", LlamaFixtures.Dir("llama"), "--adapter", LlamaFixtures.Dir(adapter));

    [Fact]
    public void LogitsNameABadId()
    {
        var (code, _, stderr) = CliRunner.Run("logits", "--model", LlamaFixtures.Dir("llama"), "--ids", "1,500");
        Assert.Equal(2, code);
        Assert.Contains("--ids", stderr);
        Assert.Contains("500", stderr);
    }

    private const string Header = "question,answer,note";

    /// <summary>Four facts; the second prompt is a quoted field with a line break, a comma and a doubled quote.</summary>
    private static readonly (string Prompt, string Response)[] Facts =
    [
        ("What colour is the robot?", "blue"),
        ("How many wheels,\nin \"total\"?", "six wheels"),
        ("Who built it?", "Ada"),
        ("Where is the office?", "in Lyon"),
    ];

    private static string Quote(string field) => "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string WriteFacts(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        var lines = Facts.Select((f, i) => $"{(i == 1 ? Quote(f.Prompt) : f.Prompt)},{f.Response},row {i}");
        File.WriteAllText(path, Header + "\r\n" + string.Join("\r\n", lines) + "\r\n");
        return path;
    }

    [Fact]
    public void SftTrainsSavesAPeftAdapterAndWritesMetricsThenGenerateAnswers()
    {
        var model = TinyLlamaFolder.Create();
        var dir = TempDir("cli-sft");
        var train = WriteFacts(dir, "train.csv");
        var general = Path.Combine(dir, "general.txt");
        File.WriteAllText(general, "The weather was mild for the season.\n\nA robot is a machine.\n");
        var output = Path.Combine(dir, "out");

        var (code, stdout, stderr) = CliRunner.Run("sft", "--model", model, "--train", train, "--valid", train, "--test", train,
            "--general-text", general, "--prompt-column", "question", "--response-column", "answer", "--lora-rank", "8", "--lora-alpha", "16",
            "--lora-dropout", "0", "--targets", "all-linear", "--epochs", "30", "--lr", "1e-2", "--batch-size", "4", "--max-length", "64",
            "--max-new-tokens", "8", "--seed", "5", "--output", output);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("step 30/30", stderr);   // the progress bar

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var m = metrics.RootElement;
        double Get(string key) => m.TryGetProperty(key, out var v) ? v.GetDouble() : throw new Xunit.Sdk.XunitException($"metrics.json lacks '{key}': {m}");
        Assert.True(Get("train_seconds") > 0);
        Assert.True(Get("train_tokens_per_second") > 0);
        Assert.True(Get("train_loss") < 0.05, $"train loss {Get("train_loss")}");
        Assert.InRange(Get("validation_perplexity"), 1.0, 1.1);
        Assert.Equal(1.0, Get("exact_match"));
        Assert.Equal(1.0, Get("token_f1"));
        Assert.Equal(1.0, Get("rouge_l"));
        Assert.True(Get("base_exact_match") < 1.0, m.ToString());
        Assert.InRange(Get("base_token_f1"), 0, 1);
        Assert.InRange(Get("base_rouge_l"), 0, 1);
        Assert.True(Get("general_perplexity_before") > 1 && Get("general_perplexity_after") > 1);
        Assert.NotEqual(Get("general_perplexity_before"), Get("general_perplexity_after"));

        var adapter = Path.Combine(output, "adapter");
        Assert.True(File.Exists(Path.Combine(adapter, "adapter_config.json")));
        var keys = SafeTensorsFile.ReadHeader(Path.Combine(adapter, "adapter_model.safetensors")).Keys.ToList();
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", keys);
        Assert.Contains("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight", keys);
        Assert.Equal(2 * 7 * 2, keys.Count);
        var predictions = File.ReadAllLines(Path.Combine(output, "predictions.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Facts.Select(f => f.Prompt), predictions.Select(p => p.GetProperty("prompt").GetString()));   // the multi-line field survived
        Assert.Equal(Facts.Select(f => f.Response), predictions.Select(p => p.GetProperty("prediction").GetString()));

        // generate loads the saved adapter and formats the prompt as training did.
        var (genCode, genOut, genErr) = CliRunner.Run("generate", "--model", model, "--adapter", adapter, "--prompt", Facts[1].Prompt,
            "--max-new-tokens", "8", "--greedy");
        Assert.True(genCode == 0, $"exit {genCode}\n{genErr}");
        Assert.Equal("six wheels", genOut.Trim());
        var (baseCode, baseOut, _) = CliRunner.Run("generate", "--model", model, "--prompt", Facts[1].Prompt, "--max-new-tokens", "8");
        Assert.Equal(0, baseCode);
        Assert.NotEqual("six wheels", baseOut.Trim());
    }

    [Fact]
    public void SftNamesAMissingColumn()
    {
        var dir = TempDir("cli-sft-bad");
        var train = WriteFacts(dir, "train.csv");
        var (code, _, stderr) = CliRunner.Run("sft", "--model", TinyLlamaFolder.Create(), "--train", train, "--prompt-column", "prompt",
            "--response-column", "answer", "--output", Path.Combine(dir, "out"));
        Assert.Equal(2, code);
        Assert.Contains("'prompt'", stderr);
        Assert.Contains("'question'", stderr);   // lists the columns that exist
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }

    [Fact]
    public void GenerateRefusesGreedyWithSamplingOptions()
    {
        var (code, _, stderr) = CliRunner.Run("generate", "--model", LlamaFixtures.Dir("gen"), "--prompt", "hi", "--greedy", "--temperature", "0.7");
        Assert.Equal(2, code);
        Assert.Contains("--greedy", stderr);
    }
}
