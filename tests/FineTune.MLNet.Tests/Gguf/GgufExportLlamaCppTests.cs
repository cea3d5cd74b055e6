using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Export.Gguf;
using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Import.Gguf;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Llama;
using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;
using Xunit.Abstractions;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary>
/// Exported GGUF files run by llama.cpp itself (LLamaSharp 0.30, F32 K/V cache, flash attention off) give the same
/// greedy ids as the project's TorchSharp generator, and for F32 files logits within 1e-4 (float32 on both sides over
/// the same weights; llama.cpp's matmul order differs, measured ≤ ~1e-6).
/// </summary>
public sealed class GgufExportLlamaCppTests(ITestOutputHelper output)
{
    private const int Steps = 40;
    private const double F32LogitTolerance = 1e-4;

    /// <summary>stories260K: gguf-py file -> our importer -> HF folder -> our exporter -> llama.cpp, per type.</summary>
    [Fact]
    public void Stories_round_trip_gives_golden_ids_in_llama_cpp_for_every_type()
    {
        using var dir = new TempDir();
        string hf = Path.Combine(dir.Path, "stories-hf");
        GgufLlamaImporter.Import(GgufFixtures.File(GgufFixtures.StoriesF32), hf);
        using var model = LlamaForCausalLM.FromPretrained(hf);
        var originals = new Dictionary<GgufExportType, string>
        {
            [GgufExportType.F32] = "stories260K-f32.gguf",
            [GgufExportType.F16] = "stories260K-f16.gguf",
            [GgufExportType.Q8_0] = "stories260K-q8_0.gguf",
            [GgufExportType.Q4_0] = "stories260K-q4_0.gguf",
        };
        foreach (var (type, original) in originals)
        {
            string path = Path.Combine(dir.Path, $"stories-{type}.gguf");
            var result = LlamaGgufExporter.Export(model, hf, path, new GgufExportOptions { Type = type });
            Assert.Equal("llama", result.TokenizerModel);
            output.WriteLine($"{type}: {result.Bytes:N0} bytes, {string.Join(", ", result.TensorTypes.Select(kv => $"{kv.Value} {kv.Key}"))}");

            // Our quantizers and type policy reproduce gguf-py's tensors byte for byte.
            var ours = GgufFile.Read(path);
            var theirs = GgufFile.Read(GgufFixtures.File(original));
            foreach (var t in theirs.Tensors)
            {
                var mine = ours.FindTensor(t.Name) ?? throw new Xunit.Sdk.XunitException($"{type}: tensor {t.Name} missing");
                Assert.Equal(t.Type, mine.Type);
                Assert.True(theirs.ReadTensorBytes(t).AsSpan().SequenceEqual(ours.ReadTensorBytes(mine)), $"{type}: tensor {t.Name} bytes differ from gguf-py's");
            }
            Assert.Equal(theirs.Tensors.Count, ours.Tensors.Count);

            using var llama = new LlamaCppRunner(path);
            foreach (var run in new[] { "bos", "text" })
            {
                var (prompt, gen, golden) = GgufFixtures.Run(original, run);
                var (ids, logits) = llama.Greedy(prompt, Steps);
                Assert.Equal(gen, ids);
                if (type == GgufExportType.F32)
                {
                    double diff = GgufFixtures.MaxAbsDiff(logits, GgufFixtures.TorchLastLogits(model, prompt));
                    output.WriteLine($"  {run}: llama.cpp vs TorchSharp max |logit diff| {diff:E2}; vs golden {GgufFixtures.MaxAbsDiff(logits, golden):E2}");
                    Assert.True(diff <= F32LogitTolerance, $"{run}: {diff:E2}");
                }
            }
            if (type == GgufExportType.F32)
                Assert.Equal(GgufFixtures.Run(original, "text").PromptIds, llama.Tokenize(GgufFixtures.PromptText));
        }
    }

    /// <summary>Tiny HF llama fixtures: GQA with and without a LoRA adapter, and tied embeddings with llama3 RoPE.</summary>
    [Theory]
    [InlineData("llama", null)]
    [InlineData("llama", "lora")]
    [InlineData("llama-tied", null)]
    public void Tiny_hf_llama_f32_export_matches_torchsharp_in_llama_cpp(string fixture, string? adapter)
    {
        using var dir = new TempDir();
        foreach (var file in Directory.EnumerateFiles(LlamaFixtures.Dir(fixture))) File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        var config = LlamaConfig.FromJsonFile(Path.Combine(dir.Path, "config.json"));
        SyntheticTokenizer.WriteTo(dir.Path, config.VocabSize);
        using var model = adapter is null ? LlamaForCausalLM.FromPretrained(dir.Path) : LlamaForCausalLM.FromPretrainedWithAdapter(dir.Path, LlamaFixtures.Dir(adapter));
        model.eval();
        var tokenizer = HfTokenizer.FromFolder(dir.Path);
        string path = dir.File("model.gguf");
        var result = LlamaGgufExporter.Export(model, dir.Path, path, new GgufExportOptions { Type = GgufExportType.F32 });
        output.WriteLine($"{fixture}{(adapter is null ? "" : "+" + adapter)}: {result.Bytes:N0} bytes");

        if (adapter is not null)
        {
            using var baseModel = LlamaForCausalLM.FromPretrained(dir.Path);
            double effect = GgufFixtures.MaxAbsDiff(GgufFixtures.TorchLastLogits(model, [1, 40, 7]), GgufFixtures.TorchLastLogits(baseModel, [1, 40, 7]));
            Assert.True(effect > 1e-3, $"the adapter changes logits by only {effect:E2}, too little to show it was merged");
        }

        using var llama = new LlamaCppRunner(path);
        Assert.Equal(config.VocabSize, llama.VocabCount);
        foreach (var prompt in new[] { new[] { 1 }, tokenizer.Encode("the cat was on a mat").ToArray(), new[] { 1, 40, 7, 99, 3, 12 } })
        {
            var expected = GgufFixtures.TorchGreedy(model, tokenizer, prompt, 24);
            var (ids, logits) = llama.Greedy(prompt, 24);
            Assert.Equal(expected, ids);
            double diff = GgufFixtures.MaxAbsDiff(logits, GgufFixtures.TorchLastLogits(model, prompt));
            output.WriteLine($"  prompt [{string.Join(",", prompt)}]: ids equal, max |logit diff| {diff:E2}");
            Assert.True(diff <= F32LogitTolerance, $"{diff:E2}");
        }
        Assert.Equal(tokenizer.Encode("the cat was on a mat"), llama.Tokenize("the cat was on a mat"));
    }

    /// <summary>A byte-level BPE tokenizer (Fixtures/llama/gen) is exported as llama.cpp's gpt2 tokenizer.</summary>
    [Fact]
    public void Byte_level_bpe_model_exports_as_gpt2_and_matches_torchsharp()
    {
        using var dir = new TempDir();
        using var model = LlamaForCausalLM.FromPretrained(LlamaFixtures.Dir("gen"));
        var tokenizer = HfTokenizer.FromFolder(LlamaFixtures.Dir("gen"));
        string path = dir.File("gen.gguf");
        var result = LlamaGgufExporter.Export(model, LlamaFixtures.Dir("gen"), path, new GgufExportOptions { Type = GgufExportType.F32 });
        Assert.Equal("gpt2", result.TokenizerModel);
        using var llama = new LlamaCppRunner(path);
        const string text = "Hello world, it's 2024!";
        var prompt = tokenizer.Encode(text);
        Assert.Equal(prompt, llama.Tokenize(text));
        var (ids, logits) = llama.Greedy(prompt, 24);
        Assert.Equal(GgufFixtures.TorchGreedy(model, tokenizer, prompt, 24), ids);
        double diff = GgufFixtures.MaxAbsDiff(logits, GgufFixtures.TorchLastLogits(model, prompt));
        output.WriteLine($"gen (gpt2): {result.Bytes:N0} bytes, prompt {prompt.Count} ids, max |logit diff| {diff:E2}");
        Assert.True(diff <= F32LogitTolerance, $"{diff:E2}");

        // And back: the gpt2 GGUF imports to a folder whose tokenizer and weights equal the original's.
        string back = dir.File("back");
        Assert.Equal("gpt2", GgufLlamaImporter.Import(path, back).TokenizerModel);
        Assert.Equal(prompt, HfTokenizer.FromFolder(back).Encode(text));
        using var reloaded = LlamaForCausalLM.FromPretrained(back);
        Assert.Equal(0, GgufFixtures.MaxAbsDiff(GgufFixtures.TorchLastLogits(reloaded, prompt), GgufFixtures.TorchLastLogits(model, prompt)));
    }
}
