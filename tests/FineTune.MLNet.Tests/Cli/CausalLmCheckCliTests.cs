using System.Text.Json.Nodes;
using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Tests.Checkpoints;
using Xunit;

namespace FineTune.MLNet.Tests.Cli;

/// <summary>
/// <c>finetune check sft|dpo</c> and the preflight before <c>finetune sft</c>, on small crafted CSV files with the bundled
/// tinystories-260k model (BOS 1, EOS 2, no pad token: padding uses the EOS id) and copies of it with a chat template:
/// the rendered example with supervised tokens marked, truncation and the length histogram, zero supervised tokens and a
/// doubled BOS as errors naming the row.
/// </summary>
public sealed class CausalLmCheckCliTests
{
    /// <summary>The bundled model's folder copied with <paramref name="chatTemplate"/> in its tokenizer_config.json.</summary>
    private static string WithChatTemplate(TempDir dir, string chatTemplate)
    {
        var source = PretrainedDecoders.ResolveFolder(PretrainedDecoders.TinyStories260K);
        var folder = dir.File("templated-model");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")))!.AsObject();
        config["chat_template"] = chatTemplate;
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config.ToJsonString());
        return folder;
    }

    /// <summary>Writes a template whose assistant turn is the content and EOS, after the user's content and a line break.</summary>
    private const string PlainTemplate = "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] }}\n{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}";

    private static (int Code, string Stdout, string Stderr, JsonObject Report) Check(TempDir dir, string task, string model, string csv, int maxLength, params string[] columns)
    {
        File.WriteAllText(dir.File("train.csv"), csv);
        var output = dir.File("check");
        var (code, stdout, stderr) = CliRunner.Run(["check", task, "--model", model, "--train", dir.File("train.csv"), .. columns, "--max-length", maxLength.ToString(), "--output", output]);
        var path = Path.Combine(output, "preflight.json");
        Assert.True(File.Exists(path), $"no preflight.json; exit {code}\n{stdout}\n{stderr}");
        return (code, stdout, stderr, JsonNode.Parse(File.ReadAllText(path))!.AsObject());
    }

    private static readonly string[] SftColumns = ["--prompt-column", "prompt", "--response-column", "response"];
    private static readonly string[] DpoColumns = ["--prompt-column", "prompt", "--chosen-column", "chosen", "--rejected-column", "rejected"];

    private static List<string> Strings(JsonObject report, string key) => report[key]!.AsArray().Select(e => (string)e!).ToList();

    /// <summary>The histogram's bins cover 1..longest without gaps, hold every sequence once, and the sequences in bins
    /// past --max-length are exactly the truncated ones; returns the bins.</summary>
    private static List<(int From, int To, int Count)> AssertHistogramAgreesWithTheFacts(JsonObject facts, int maxLength)
    {
        var bins = facts["train_length_histogram"]!.AsArray().Select(b => (From: (int)b!["From"]!, To: (int)b["To"]!, Count: (int)b["Count"]!)).ToList();
        Assert.Equal(1, bins[0].From);
        for (int i = 1; i < bins.Count; i++) Assert.Equal(bins[i - 1].To + 1, bins[i].From);
        Assert.Equal((int)facts["train_tokens_max"]!, bins[^1].To);
        Assert.Equal((int)facts["train_sequences"]!, bins.Sum(b => b.Count));
        Assert.Equal((int)facts["train_truncated"]!, bins.Where(b => b.From > maxLength).Sum(b => b.Count));
        return bins;
    }

    [Fact]
    public void SftRendersTheSupervisedTokensAndReportsTruncationWithAHistogram()
    {
        using var dir = new TempDir("check-sft");
        var csv = "prompt,response\nOnce upon a time,there was a cat.\nTom had a ball,and he liked it.\nThe sun was hot,so they swam.\n" +
                  "Lily went to the park with her mom and dad and they played on the swings all day long,then they went home happy.\n";
        var (code, stdout, stderr, report) = Check(dir, "sft", "tinystories-260k", csv, 24, SftColumns);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Empty(Strings(report, "errors"));   // among them: every supervised label (the EOS too) survives padding with the EOS id
        var facts = report["facts"]!.AsObject();
        // Prompt, the line break the builder puts between prompt and response, then the response and its EOS supervised.
        Assert.Equal("data row 1: <s> Once upon a time\n[[there was a cat.</s>]]", (string?)facts["rendered_example"]);
        Assert.True((bool)facts["pad_is_eos"]!);
        Assert.Equal(2, (int)facts["eos_id"]!);
        Assert.Equal(4, (int)facts["train_rows"]!);
        Assert.Equal(1, (int)facts["train_truncated"]!);      // the long row at --max-length 24
        Assert.Equal(0.25, (double)facts["train_truncation_rate"]!);
        Assert.True((int)facts["train_supervised_tokens_min"]! >= 2);
        Assert.Contains(Strings(report, "warnings"), w => w.Contains("1 of 4 sequence(s)", StringComparison.Ordinal) && w.Contains("--max-length 24", StringComparison.Ordinal));
        var bins = AssertHistogramAgreesWithTheFacts(facts, 24);
        Assert.Contains("train_length_histogram (tokens):", stdout);
        Assert.Equal(bins.Count(b => b.From > 24), stdout.Split('\n').Count(l => l.Contains("(over --max-length)", StringComparison.Ordinal)));
    }

    [Fact]
    public void AnSftRowWithoutSupervisedTokensIsAnErrorNamingItAndSftRefusesToTrain()
    {
        using var dir = new TempDir("check-sft-zero");
        // A template that drops the assistant turn, and a row whose response is empty: its only tokens are the prompt's.
        var model = WithChatTemplate(dir, "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] }}{% endif %}{% endfor %}{{ eos_token }}");
        var csv = "prompt,response\nThe sun,\"\"\n";
        var (code, stdout, stderr, report) = Check(dir, "sft", model, csv, 24, SftColumns);
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        var error = Assert.Single(Strings(report, "errors"));
        Assert.Contains("train.csv: data row 1: no supervised token (column 'response' is empty", error);
        Assert.Equal("data row 1: <s> The sun</s>", (string?)report["facts"]!["rendered_example"]);   // nothing between [[ ]]

        var output = dir.File("run");
        var train = CliRunner.Run(["sft", "--model", model, "--train", dir.File("train.csv"), .. SftColumns, "--max-length", "24", "--output", output]);
        Assert.Equal(2, train.ExitCode);
        Assert.Contains("data row 1: no supervised token", train.Stderr);
        Assert.Contains("nothing was trained", train.Stderr);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void ADoubledBosIsAnErrorNamingTheRow()
    {
        using var dir = new TempDir("check-sft-bos");
        var model = WithChatTemplate(dir, PlainTemplate);
        // Row 2's prompt already starts with the BOS text, which the template's own BOS precedes.
        var csv = "prompt,response\nOnce upon a time,there was a cat.\n<s>Tom had a ball,and he liked it.\n";
        var (code, stdout, stderr, report) = Check(dir, "sft", model, csv, 32, SftColumns);
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        var error = Assert.Single(Strings(report, "errors"));
        Assert.Contains("train.csv: data row 2: the sequence starts with two BOS tokens", error);
        Assert.True((bool)report["facts"]!["uses_chat_template"]!);
        Assert.Equal("data row 1: <s> Once upon a time\n[[there was a cat.</s>]]", (string?)report["facts"]!["rendered_example"]);   // one BOS: the template's
    }

    [Fact]
    public void DpoChecksBothCompletionsOfEachPair()
    {
        using var dir = new TempDir("check-dpo");
        var model = WithChatTemplate(dir, PlainTemplate);
        var csv = "prompt,chosen,rejected\nOnce upon a time,there was a cat.,the dog ran.\n<s>Tom had a ball,and he liked it.,he was sad.\n" +
                  "Lily went to the park with her mom and dad and they played on the swings all day long,then they went home happy and ate a big cake.,no.\n";
        var (code, stdout, stderr, report) = Check(dir, "dpo", model, csv, 24, DpoColumns);
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        var errors = Strings(report, "errors");
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("data row 2 (column 'chosen'): the sequence starts with two BOS tokens", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("data row 2 (column 'rejected'): the sequence starts with two BOS tokens", StringComparison.Ordinal));
        var facts = report["facts"]!.AsObject();
        Assert.Equal("data row 1, chosen: <s> Once upon a time\n[[there was a cat.</s>]]", (string?)facts["rendered_example"]);
        Assert.Equal("data row 1, rejected: <s> Once upon a time\n[[the dog ran.</s>]]", (string?)facts["rendered_example_rejected"]);
        Assert.Equal(6, (int)facts["train_sequences"]!);       // two per pair
        Assert.Equal(2, (int)facts["train_truncated"]!);       // both sides of the long row
        Assert.Contains(Strings(report, "warnings"), w => w.Contains("2 of 6 sequence(s)", StringComparison.Ordinal));
        AssertHistogramAgreesWithTheFacts(facts, 24);
    }
}
