using FineTune.MLNet.Export.GenAi;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Gguf;
using FineTune.MLNet.Tests.Llama;
using FineTune.MLNet.Tokenization.HuggingFace;
using Microsoft.ML.OnnxRuntimeGenAI;
using Xunit;
using Xunit.Abstractions;

namespace FineTune.MLNet.Tests.GenAi;

/// <summary>
/// <see cref="GenAiFolderExporter"/> folders of the tiny HF test checkpoints (llama with GQA, tied llama3-RoPE llama,
/// qwen2 with q/k/v biases) run in ONNX Runtime GenAI 0.18 in this process, prompt ids fed straight to
/// <c>Generator.AppendTokens</c>: greedy ids equal the TorchSharp generator's for several prompts. The fixtures have no
/// tokenizer, which the exporter requires, so a synthetic SentencePiece tokenizer.json of the model's vocabulary is
/// written next to a copy of each (GenAI never tokenizes here). Where TorchSharp's greedy run ends on EOS, GenAI stops
/// at the same step but without the EOS id in <c>GetSequence</c>, so that last id is compared as "stopped here".
/// </summary>
public sealed class GenAiFixtureIdsTests(ITestOutputHelper output)
{
    private const int NewTokens = 24;
    private static readonly int[][] Prompts = [[1], [1, 40, 7, 99, 3, 12], [1, 5, 17, 64, 100, 120, 9, 33, 2, 8, 77]];

    [Theory]
    [InlineData("llama", false)]
    [InlineData("llama-tied", false)]
    [InlineData("qwen2", false)]
    [InlineData("llama", true)]
    public void GenAiGreedyIdsEqualTorchSharpOnTheTestCheckpoint(string fixture, bool externalData)
    {
        using var dir = new TempDir();
        string source = dir.File("hf");
        Directory.CreateDirectory(source);
        foreach (var file in Directory.EnumerateFiles(LlamaFixtures.Dir(fixture))) File.Copy(file, Path.Combine(source, Path.GetFileName(file)));
        var config = LlamaConfig.FromJsonFile(Path.Combine(source, "config.json"));
        SyntheticTokenizer.WriteTo(source, config.VocabSize);
        using var model = LlamaForCausalLM.FromPretrained(source);
        model.eval();
        if (fixture == "qwen2")
        {
            Assert.True(config.QkvBias, "qwen2 must have q/k/v biases");
            var biases = model.named_parameters().Where(p => p.name.EndsWith("_proj.bias", StringComparison.Ordinal)).ToList();
            Assert.Equal(3 * config.NumHiddenLayers, biases.Count);
            Assert.All(biases, p => Assert.True(p.parameter.abs().max().item<float>() > 1e-3f, $"{p.name} is zero: the check would not see a dropped bias"));
        }
        string folder = dir.File("genai");
        GenAiFolderExporter.Export(model, source, folder, externalDataAboveBytes: externalData ? 0 : 1L << 30);
        string data = Path.Combine(folder, "model.onnx.data");
        Assert.Equal(externalData, File.Exists(data));
        if (externalData)
            Assert.True(new FileInfo(data).Length > 4 * new FileInfo(Path.Combine(folder, "model.onnx")).Length, "the weights should sit in model.onnx.data");

        var generator = new TextGenerator(model, HfTokenizer.FromFolder(source));
        using var genai = new Model(folder);
        int compared = 0;
        foreach (var prompt in Prompts)
        {
            var expected = generator.GenerateFromIds([prompt], new GenerationOptions { MaxNewTokens = NewTokens })[0].TokenIds.ToArray();
            var actual = GenAiGreedy(genai, prompt, NewTokens);
            output.WriteLine($"{fixture} [{string.Join(",", prompt)}]: torch {expected.Length} ids, genai {actual.Length} ids");
            if (expected.Length < NewTokens)
            {
                // TorchSharp ended on an EOS id; GenAI 0.18 stops there too but leaves the EOS out of its sequence.
                Assert.Contains(expected[^1], config.EosTokenIds);
                expected = expected[..^1];
            }
            Assert.Equal(expected, actual);
            compared += expected.Length;
        }
        output.WriteLine($"{fixture}: {compared} greedy ids compared, all equal");
        Assert.True(compared >= 40, $"compared only {compared} ids (EOS came too early to say much)");
    }

    /// <summary>GenAI's greedy continuation of <paramref name="prompt"/>: at most <paramref name="count"/> new ids (a final EOS is not in it).</summary>
    private static int[] GenAiGreedy(Model model, int[] prompt, int count)
    {
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", prompt.Length + count);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens(prompt);
        while (!generator.IsDone()) generator.GenerateNextToken();
        return [.. generator.GetSequence(0).ToArray().Skip(prompt.Length)];
    }
}
