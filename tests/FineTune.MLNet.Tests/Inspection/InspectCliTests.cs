using System.Text.Json;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Tests.Cli;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.Llama2c;
using FineTune.MLNet.Tests.TestSupport;
using Xunit;

namespace FineTune.MLNet.Tests.Inspection;

/// <summary>
/// <c>finetune inspect PATH [--json]</c> on real files: the bundled model folder, PEFT adapters (fixture and from a tiny
/// SFT run), an exported ONNX file, a GGUF fixture, llama2.c checkpoints, a tiny classify run folder; and hostile files.
/// </summary>
public sealed class InspectCliTests
{
    /// <summary>stories260K's published size (its README and llama2.c's): 5 layers, dim 64, tied classifier.</summary>
    private const long TinyStoriesParameters = 260_032;

    private static JsonElement InspectJson(string path)
    {
        var (code, stdout, stderr) = CliRunner.Run("inspect", path, "--json");
        Assert.True(code == 0, $"inspect {path}: exit {code}\n{stdout}\n{stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    private static (int Code, string Stderr) InspectFails(string path)
    {
        var (code, _, stderr) = CliRunner.Run("inspect", path);
        return (code, stderr);
    }

    [Fact]
    public void TheBundledModelFolderHasItsPublishedParameterCount()
    {
        var dir = PretrainedDecoders.ResolveFolder(PretrainedDecoders.TinyStories260K);
        var r = InspectJson(dir);
        Assert.Equal("model folder", r.GetProperty("kind").GetString());
        Assert.Equal("llama", r.GetProperty("model_type").GetString());
        Assert.Equal("LlamaForCausalLM", r.GetProperty("architectures")[0].GetString());
        long layers = r.GetProperty("layers").GetInt64(), hidden = r.GetProperty("hidden_size").GetInt64(), ffn = r.GetProperty("intermediate_size").GetInt64();
        long heads = r.GetProperty("attention_heads").GetInt64(), kvHeads = r.GetProperty("kv_heads").GetInt64(), vocab = r.GetProperty("vocab_size").GetInt64();
        Assert.Equal((5L, 64L, 172L, 8L, 4L, 512L), (layers, hidden, ffn, heads, kvHeads, vocab));
        Assert.True(r.GetProperty("tie_word_embeddings").GetBoolean());
        // Config arithmetic (tied: no lm_head): embeddings + per layer (q, k, v, o, gate/up/down, 2 RMSNorms) + final norm.
        var kvDim = hidden / heads * kvHeads;
        var perLayer = 2 * hidden * hidden + 2 * hidden * kvDim + 3 * hidden * ffn + 2 * hidden;
        var expected = vocab * hidden + layers * perLayer + hidden;
        Assert.Equal(TinyStoriesParameters, expected);
        Assert.Equal(TinyStoriesParameters, r.GetProperty("parameters").GetInt64());
        Assert.Equal(4 * TinyStoriesParameters, r.GetProperty("weight_bytes").GetInt64());
        var dtypes = r.GetProperty("dtypes").EnumerateArray().ToList();
        Assert.Single(dtypes);
        Assert.Equal("F32", dtypes[0].GetProperty("name").GetString());
        Assert.Contains("tokenizer.json", r.GetProperty("tokenizer").EnumerateArray().Select(e => e.GetString()));

        var (code, table, stderr) = CliRunner.Run("inspect", dir);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"(?m)^parameters\s+260,032$", table);
        Assert.Matches(@"(?m)^layers\s+5$", table);
    }

    [Fact]
    public void AFixtureAdapterReportsItsLoraSettingsAndTheParametersItsTensorsHold()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama", "lora");
        var r = InspectJson(dir);
        Assert.Equal("PEFT adapter", r.GetProperty("kind").GetString());
        Assert.Equal(4, r.GetProperty("rank").GetInt64());
        Assert.Equal(8, r.GetProperty("alpha").GetDouble());
        Assert.Equal(2, r.GetProperty("scaling").GetDouble());
        Assert.Equal(["q_proj", "v_proj"], r.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal));
        // Header arithmetic vs the tensors actually loaded.
        var loaded = SafeTensorsFile.Load(Path.Combine(dir, "adapter_model.safetensors"));
        try
        {
            Assert.Equal(loaded.Values.Sum(t => t.numel()), r.GetProperty("parameters").GetInt64());
            Assert.Equal(loaded.Keys.Count(k => k.EndsWith("lora_A.weight", StringComparison.Ordinal)), r.GetProperty("lora_layers").GetInt64());
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    [Fact]
    public void AnAdapterFromATinySftRunReportsTheRunsSettings()
    {
        var dir = TestTempRoot.NewFolder("inspect-sft");
        var train = Path.Combine(dir, "train.csv");
        File.WriteAllText(train, "prompt,response\nOnce upon a time,there was a cat.\nTom had a ball,and he liked it.\n");
        var output = Path.Combine(dir, "run");
        var (code, stdout, stderr) = CliRunner.Run("sft", "--model", "tinystories-260k", "--train", train, "--prompt-column", "prompt",
            "--response-column", "response", "--lora-rank", "2", "--lora-alpha", "4", "--targets", "q_proj,v_proj", "--epochs", "1",
            "--batch-size", "2", "--max-length", "32", "--output", output);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var r = InspectJson(Path.Combine(output, "adapter"));
        Assert.Equal(2, r.GetProperty("rank").GetInt64());
        Assert.Equal("tinystories-260k", r.GetProperty("base_model").GetString());
        Assert.Equal(10, r.GetProperty("lora_layers").GetInt64());                   // 5 layers x (q, v)
        // q: 64 -> 64, v: 64 -> 32; LoRA A (r x in) + B (out x r) per projection.
        Assert.Equal(5 * (2 * (64 + 64) + 2 * (64 + 32)), r.GetProperty("parameters").GetInt64());

        var run = InspectJson(output);
        Assert.Equal("run folder", run.GetProperty("kind").GetString());
        Assert.Equal(1, run.GetProperty("metrics").GetProperty("epochs_run").GetInt64());
        Assert.Contains("adapter/", run.GetProperty("contents").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void AClassifyRunFolderReportsItsMetrics()
    {
        var dir = TestTempRoot.NewFolder("inspect-classify");
        string Csv(string name, int rows, int seed)
        {
            var path = Path.Combine(dir, name);
            File.WriteAllLines(path, TinyClassifierData.Rows(rows, seed).Select(r => $"\"{r.Text}\",{r.Label}").Prepend("text,label"));
            return path;
        }
        var output = Path.Combine(dir, "run");
        var (code, stdout, stderr) = CliRunner.Run("classify", "--train", Csv("train.csv", 24, 1), "--test", Csv("test.csv", 12, 2),
            "--text-column", "text", "--label-column", "label", "--model", TinyClassifierData.ModelFolder(), "--epochs", "1",
            "--batch-size", "8", "--max-length", "16", "--output", output);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        using var written = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var r = InspectJson(output);
        var metrics = r.GetProperty("metrics");
        Assert.Equal(written.RootElement.GetProperty("accuracy").GetDouble(), metrics.GetProperty("accuracy").GetDouble());
        Assert.Equal(written.RootElement.GetProperty("macro_f1").GetDouble(), metrics.GetProperty("macro_f1").GetDouble());
        Assert.Contains("model/", r.GetProperty("contents").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void AnExportedOnnxFileReportsOpsetInputsOutputsAndWeights()
    {
        var path = Path.Combine(TestTempRoot.NewFolder("inspect-onnx"), "model.onnx");
        var (code, stdout, stderr) = CliRunner.Run("export", "--format", "onnx", "--model", "tinystories-260k", "--output", path);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var r = InspectJson(path);
        Assert.Equal("ONNX model", r.GetProperty("kind").GetString());
        Assert.Equal(17, r.GetProperty("opset").GetInt64());
        Assert.Equal(["input_ids", "attention_mask", "position_ids"], r.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()!));
        var logits = r.GetProperty("outputs")[0];
        Assert.Equal("logits", logits.GetProperty("name").GetString());
        Assert.Equal("[batch, sequence, 512]", logits.GetProperty("shape").GetString());
        Assert.True(r.GetProperty("nodes").GetInt64() > 100);
        // Every weight of the model, plus a few small constants (shapes, RoPE scalars).
        Assert.InRange(r.GetProperty("initializer_parameters").GetInt64(), TinyStoriesParameters, TinyStoriesParameters + 1_000);
        Assert.False(r.GetProperty("external_data").GetBoolean());
    }

    [Fact]
    public void AGgufFixtureReportsArchitectureTensorsAndTokenizer()
    {
        var r = InspectJson(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gguf", "stories260K-f32.gguf"));
        Assert.Equal("GGUF file", r.GetProperty("kind").GetString());
        Assert.Equal("llama", r.GetProperty("architecture").GetString());
        Assert.Equal(5, r.GetProperty("layers").GetInt64());
        Assert.Equal("llama", r.GetProperty("tokenizer").GetString());
        Assert.Equal(512, r.GetProperty("tokenizer_tokens").GetInt64());
        using var types = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gguf", "tensor_types.json")));
        var tensors = types.RootElement.GetProperty("stories260K-f32.gguf").EnumerateArray().ToList();
        Assert.Equal(tensors.Count, r.GetProperty("tensors").GetInt64());
        // The file stores the classifier separately (output.weight): the tied model plus one vocab x dim matrix.
        Assert.Equal(TinyStoriesParameters + 512 * 64, r.GetProperty("parameters").GetInt64());
        Assert.Contains("tokenizer.ggml.tokens", r.GetProperty("metadata").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData("v1.bin", 1, true)]
    [InlineData("v0-untied.bin", 0, false)]
    public void ALlama2cCheckpointReportsItsHeader(string file, int version, bool tied)
    {
        var path = Llama2cFixtures.Write(TestTempRoot.NewFolder("inspect-l2c"), file);
        var r = InspectJson(path);
        Assert.Equal("llama2.c checkpoint", r.GetProperty("kind").GetString());
        Assert.Equal(version, r.GetProperty("version").GetInt64());
        Assert.Equal(tied, r.GetProperty("tie_word_embeddings").GetBoolean());
        Assert.Equal(TinyStoriesParameters + (tied ? 0 : 512 * 64), r.GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void HostileAndUnknownFilesAreRefusedNamingTheFileAndWhatWasExpected()
    {
        var dir = TestTempRoot.NewFolder("inspect-bad");
        var junk = Path.Combine(dir, "junk.onnx");
        File.WriteAllBytes(junk, [.. Enumerable.Range(0, 64).Select(i => (byte)(i * 37 + 11))]);
        var gguf = Path.Combine(dir, "cut.gguf");
        File.WriteAllBytes(gguf, File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gguf", "stories260K-f32.gguf"))[..200]);
        var text = Path.Combine(dir, "notes.txt");
        File.WriteAllText(text, "hello");
        var empty = Directory.CreateDirectory(Path.Combine(dir, "empty")).FullName;
        var cases = new (string Path, string Expected)[]
        {
            (junk, "not a valid ONNX ModelProto"), (gguf, "not a valid GGUF file"), (text, "expected a model folder"),
            (empty, "expected a model folder"), (Path.Combine(dir, "missing.onnx"), "does not exist"),
        };
        foreach (var (path, expected) in cases)
        {
            var (code, stderr) = InspectFails(path);
            Assert.True(code == 2, $"{path}: exit {code}\n{stderr}");
            Assert.Contains(path, stderr);
            Assert.Contains(expected, stderr);
        }
    }
}
