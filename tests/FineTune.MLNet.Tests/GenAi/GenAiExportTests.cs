using System.Text.Json;
using FineTune.MLNet.Tests.Cli;
using FineTune.MLNet.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace FineTune.MLNet.Tests.GenAi;

/// <summary>
/// <c>export --format genai</c> folders served by ONNX Runtime GenAI 0.18 (<c>generate --onnx DIR</c>, a separate
/// process) give the same greedy ids as the TorchSharp generator (<c>generate --model</c>) on the bundled TinyStories
/// model, with and without a LoRA adapter trained here.
/// </summary>
public sealed class GenAiExportTests(ITestOutputHelper output)
{
    private static readonly string[] RawPrompts = ["Once upon a time", "Lily and Tom went to the park", "The cat"];

    [Fact]
    public void GenAiGreedyIdsEqualTorchSharpOnTheBundledModel()
    {
        var folder = Path.Combine(TestTempRoot.NewFolder("genai"), "tinystories-genai");
        var (code, stdout, stderr) = CliRunner.Run("export", "--format", "genai", "--model", "tinystories-260k", "--output", folder);
        Assert.True(code == 0, stdout + stderr);
        foreach (var file in new[] { "model.onnx", "genai_config.json", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(folder, file)), $"{file} missing");
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "genai_config.json"))))
        {
            var decoder = config.RootElement.GetProperty("model").GetProperty("decoder");
            Assert.Equal(5, decoder.GetProperty("num_hidden_layers").GetInt32());
            Assert.Equal(4, decoder.GetProperty("num_key_value_heads").GetInt32());
            Assert.Equal("past_key_values.%d.key", decoder.GetProperty("inputs").GetProperty("past_key_names").GetString());
        }
        var compared = RawPrompts.Sum(p => AssertSameIds(["--model", "tinystories-260k"], folder, ["--raw", "--prompt", p], 40));
        Assert.True(compared >= RawPrompts.Length * 20, $"compared only {compared} ids");
    }

    [Fact]
    public void GenAiGreedyIdsEqualTorchSharpWithAMergedAdapter()
    {
        var dir = TestTempRoot.NewFolder("genai-lora");
        var train = Path.Combine(dir, "qa.csv");
        File.WriteAllLines(train, ["prompt,response", "Who has a red ball?,Tom has a red ball.", "Where is the cat?,The cat is in the garden."]);
        var sft = Path.Combine(dir, "sft");
        var (code, stdout, stderr) = CliRunner.Run("sft", "--model", "tinystories-260k", "--train", train, "--prompt-column", "prompt", "--response-column", "response",
            "--epochs", "40", "--batch-size", "2", "--lr", "2e-2", "--lora-rank", "8", "--targets", "all-linear", "--output", sft);
        Assert.True(code == 0, stdout + stderr);
        var adapter = Path.Combine(sft, "adapter");
        var folder = Path.Combine(dir, "genai");
        (code, stdout, stderr) = CliRunner.Run("export", "--format", "genai", "--model", "tinystories-260k", "--adapter", adapter, "--output", folder);
        Assert.True(code == 0, stdout + stderr);

        var compared = 0;
        foreach (var prompt in new[] { "Who has a red ball?", "Where is the cat?" })
            compared += AssertSameIds(["--model", "tinystories-260k", "--adapter", adapter], folder, ["--prompt", prompt], 24);
        compared += AssertSameIds(["--model", "tinystories-260k", "--adapter", adapter], folder, ["--raw", "--prompt", "Once upon a time"], 24);
        Assert.True(compared >= 3 * 5, $"compared only {compared} ids");
        var answer = Generate(["--onnx", folder, "--prompt", "Who has a red ball?", "--max-new-tokens", "12"]).GetProperty("text").GetString();
        Assert.StartsWith("Tom has a red ball", answer);   // the adapter is in the exported weights (the base model answers otherwise)
    }

    [Fact]
    public void AFolderWithoutTokenizerJsonIsRefusedWithExitTwo()
    {
        var (code, _, stderr) = CliRunner.Run("export", "--format", "genai", "--model", FineTune.MLNet.Tests.Llama.LlamaFixtures.Dir("llama"),
            "--output", Path.Combine(TestTempRoot.NewFolder("genai-bad"), "out"));
        Assert.Equal(2, code);
        Assert.Contains("has no tokenizer.json, which an ONNX Runtime GenAI folder needs", stderr);
    }

    /// <summary>Greedy ids of TorchSharp and of GenAI for one prompt must be equal; returns how many were compared.</summary>
    private int AssertSameIds(string[] torchModel, string genaiFolder, string[] prompt, int maxNewTokens)
    {
        string[] length = ["--max-new-tokens", maxNewTokens.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var torch = Generate([.. torchModel, "--greedy", .. prompt, .. length]);
        var genai = Generate(["--onnx", genaiFolder, .. prompt, .. length]);
        Assert.Equal(torch.GetProperty("prompt_ids").EnumerateArray().Select(v => v.GetInt32()), genai.GetProperty("prompt_ids").EnumerateArray().Select(v => v.GetInt32()));
        var expected = torch.GetProperty("ids").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var actual = genai.GetProperty("ids").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        output.WriteLine($"{string.Join(' ', prompt)}: {expected.Length} torch ids, {actual.Length} genai ids");
        Assert.Equal(expected, actual);
        return expected.Length;
    }

    private static JsonElement Generate(string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(["generate", "--json", .. args]);
        Assert.True(code == 0, stdout + stderr);
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }
}
