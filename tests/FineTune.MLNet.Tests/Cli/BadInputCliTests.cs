using System.Text.Json.Nodes;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.Llama;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Cli;

/// <summary>
/// Bad input to every command is refused before any training: exit code 2, one <c>error:</c> line naming the file,
/// column or option and what was expected, no stack trace, no output folder.
/// </summary>
public sealed class BadInputCliTests : IDisposable
{
    private readonly TempDir temp = new("bad-input-cli");

    public void Dispose() => temp.Dispose();

    private string Write(string name, string content)
    {
        var path = temp.File(name);
        File.WriteAllText(path, content);
        return path;
    }

    private string Output => temp.File("out");

    private const string Train = "text,label\ngood product,pos\nawful,neg\ngreat,pos\nbad,neg\n";

    /// <summary>Runs the command, asserts exit 2, one error line, no stack trace and no output folder; returns standard error.</summary>
    private string Refused(params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        Assert.StartsWith("error: ", stderr.TrimStart());
        Assert.DoesNotContain("   at ", stderr);                // no stack trace
        Assert.DoesNotContain("Unhandled exception", stderr);
        Assert.DoesNotContain("step ", stderr);                 // the progress bar: training never started
        Assert.False(Directory.Exists(Output), "an output folder was written");
        return stderr;
    }

    private string Classify(string train, string test, string? valid = null, string? model = null) => Refused(
    [
        "classify", "--train", train, "--test", test, .. valid is null ? Array.Empty<string>() : ["--valid", valid],
        "--text-column", "text", "--label-column", "label", "--model", model ?? TinyClassifierData.ModelFolder(), "--epochs", "1", "--output", Output,
    ]);

    [Fact]
    public void ClassifyTrainingFileWithOnlyAHeaderSaysItHasNoDataRows()
    {
        var train = Write("train.csv", "text,label\n");
        var stderr = Classify(train, Write("test.csv", Train));
        Assert.Contains(train, stderr);
        Assert.Contains("no data rows", stderr);
    }

    [Fact]
    public void ClassifyTestLabelUnseenInTrainingIsNamedBeforeTraining()
    {
        var test = Write("test.csv", "text,label\ngood,pos\nfine,neutral\nmeh,neutral\nbad,neg\nhm,meh\n");
        var stderr = Classify(Write("train.csv", Train), test);
        Assert.Contains(test, stderr);
        Assert.Contains("2 label(s) never seen in training", stderr);
        Assert.Contains("'neutral' (2 rows)", stderr);
        Assert.Contains("'meh' (1 row)", stderr);
        Assert.Contains("in 3 of 5 data row(s)", stderr);
        Assert.Contains("first is data row 2", stderr);
    }

    [Fact]
    public void ClassifyValidationLabelUnseenInTrainingIsNamed()
    {
        var valid = Write("valid.csv", "text,label\ngood,pos\nsarcastic,ironic\n");
        var stderr = Classify(Write("train.csv", Train), Write("test.csv", Train), valid);
        Assert.Contains(valid, stderr);
        Assert.Contains("'ironic' (1 row)", stderr);
    }

    [Fact]
    public void ClassifyTabSeparatedFileNamedCsvIsExplained()
    {
        var train = Write("train.csv", Train.Replace(',', '\t'));
        var stderr = Classify(train, Write("test.csv", Train));
        Assert.Contains(train, stderr);
        Assert.Contains("no column named 'text'", stderr);
        Assert.Contains("Only one column was found", stderr);
        Assert.Contains("tab-separated", stderr);
    }

    [Fact]
    public void ClassifyEmptyTextAndSingleLabelAreNamed()
    {
        var emptyText = Write("empty-text.csv", "text,label\ngood,pos\n  ,neg\n");
        var stderr = Classify(emptyText, Write("test.csv", Train));
        Assert.Contains("column 'text' has an empty or whitespace-only text in 1 of 2 data row(s)", stderr);
        Assert.Contains("data row 2", stderr);

        var oneLabel = Write("one-label.csv", "text,label\ngood,pos\ngreat,pos\n");
        stderr = Classify(oneLabel, Write("test2.csv", "text,label\ngood,pos\n"));
        Assert.Contains(oneLabel, stderr);
        Assert.Contains("single label ('pos')", stderr);
        Assert.Contains("at least 2", stderr);
    }

    [Fact]
    public void ClassifyReadsAUtf8BomTransparently()
    {
        // The BOM must not become part of the first column's name: the header is found, and the run gets as far as
        // the label check of the test file (which is made to fail, so no model is trained).
        var train = temp.File("bom.csv");
        File.WriteAllText(train, Train, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(0xEF, File.ReadAllBytes(train)[0]);
        var stderr = Classify(train, Write("test.csv", "\uFEFFtext,label\ngood,unknown\n"));
        Assert.DoesNotContain("no column named", stderr);
        Assert.Contains("'unknown' (1 row)", stderr);
    }

    [Fact]
    public void ClassifyAndEncodeNameADecoderCheckpointsArchitecture()
    {
        var stderr = Classify(Write("train.csv", Train), Write("test.csv", Train), model: LlamaFixtures.Dir("llama"));
        Assert.Contains("model_type 'llama' is not supported", stderr);
        Assert.Contains("bert", stderr);
        stderr = Refused("encode", "--model", LlamaFixtures.Dir("llama"), "--text", "hi");
        Assert.Contains("model_type 'llama' is not supported", stderr);
    }

    private const string Facts = "question,answer\nWhat colour is the robot?,blue\nWho built it?,Ada\n";

    private string Sft(string model, string train) => Refused(
        "sft", "--model", model, "--train", train, "--prompt-column", "question", "--response-column", "answer", "--epochs", "1", "--output", Output);

    [Fact]
    public void SftTrainingFileWithOnlyAHeaderSaysItHasNoDataRows()
    {
        var train = Write("train.csv", "question,answer\n");
        var stderr = Sft(LlamaFixtures.Dir("gen"), train);
        Assert.Contains(train, stderr);
        Assert.Contains("no data rows", stderr);
    }

    [Fact]
    public void SftNamesAnEncoderCheckpointsArchitecture()
    {
        var stderr = Sft(TinyClassifierData.ModelFolder(), Write("train.csv", Facts));
        Assert.Contains("model_type 'bert' is not supported", stderr);
        Assert.Contains("llama", stderr);
    }

    [Fact]
    public void SftRefusesAChatTemplateThatRendersNoAssistantTurn()
    {
        var model = LlamaFixtures.CopyToTemp("gen");
        var configPath = Path.Combine(model, "tokenizer_config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["chat_template"] = "{% for m in messages %}{% if m['role'] == 'user' %}<|user|>{{ m['content'] }}\n{% endif %}{% endfor %}";
        File.WriteAllText(configPath, config.ToJsonString());
        var stderr = Sft(model, Write("train.csv", Facts));
        Assert.Contains("renders no assistant turn", stderr);
        Assert.Contains("data row 1", stderr);   // the preflight names the file's first data row (1-based) before training
    }

    [Fact]
    public void DpoTabSeparatedFileNamedCsvIsExplained()
    {
        var train = Write("prefs.csv", "q\tgood\tbad\nWho?\tAda\tBob\n");
        var stderr = Refused("dpo", "--model", LlamaFixtures.Dir("gen"), "--train", train, "--prompt-column", "q", "--chosen-column", "good",
            "--rejected-column", "bad", "--epochs", "1", "--output", Output);
        Assert.Contains(train, stderr);
        Assert.Contains("tab-separated", stderr);
    }

    [Fact]
    public void AnAdapterForAnotherBaseModelNamesTheAdapterTheModuleAndTheShapes()
    {
        // The fixture adapter with layer 0's q_proj lora_A made 16 columns wider than this base model's hidden size.
        var adapter = LlamaFixtures.CopyToTemp("lora");
        var weights = Path.Combine(adapter, "adapter_model.safetensors");
        const string key = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
        var tensors = SafeTensorsFile.Load(weights);
        var a = tensors[key];
        tensors[key] = zeros(a.shape[0], a.shape[1] + 16);
        SafeTensorsFile.Save(weights, tensors);
        foreach (var t in tensors.Values) t.Dispose();
        a.Dispose();

        var stderr = Refused("logits", "--model", LlamaFixtures.Dir("llama"), "--adapter", adapter, "--ids", "1,5");
        Assert.Contains(weights, stderr);
        Assert.Contains(key, stderr);
        Assert.Contains("the model expects", stderr);
    }

    [Fact]
    public void DecoderCommandsNameAnUnsupportedArchitecture()
    {
        var model = LlamaFixtures.CopyToTemp("gen");
        var configPath = Path.Combine(model, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["model_type"] = "gpt2";
        File.WriteAllText(configPath, config.ToJsonString());
        var stderr = Refused("generate", "--model", model, "--prompt", "hi", "--max-new-tokens", "2");
        Assert.Contains(configPath, stderr);
        Assert.Contains("model_type 'gpt2' is not supported", stderr);
        stderr = Refused("export-onnx", "--model", model, "--output", temp.File("out.onnx"));
        Assert.Contains("'gpt2'", stderr);
    }

    [Fact]
    public void NumbersOnTheCommandLineAreReadTheSameUnderAGermanLocale()
    {
        // de-DE reads "1.5" as 15 (the dot groups thousands); the CLI reads numbers invariantly.
        var (code, _, stderr) = CliRunner.RunWith(new Dictionary<string, string> { ["LANG"] = "de_DE.UTF-8", ["LC_ALL"] = "de_DE.UTF-8" },
            "sft", "--model", LlamaFixtures.Dir("gen"), "--train", Write("train.csv", Facts), "--prompt-column", "question",
            "--response-column", "answer", "--lr", "1.5", "--output", Output);
        Assert.Equal(2, code);
        Assert.Contains("--lr", stderr);
        Assert.Contains("(got 1.5)", stderr);
    }
}
