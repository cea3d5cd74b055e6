using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Import.Gguf;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary>
/// Each gguf-py fixture imported to an HF folder, loaded with the project's Llama loader, reproduces golden.json
/// (numpy on the file's dequantized weights): the 40 greedy ids of both runs, and the first-step logits within
/// 1e-4 (float32 forward against float64 numpy on identical weights; measured max below).
/// </summary>
public sealed class GgufImportTests
{
    [Theory]
    [InlineData("stories260K-f32.gguf")]
    [InlineData("stories260K-f16.gguf")]
    [InlineData("stories260K-q8_0.gguf")]
    [InlineData("stories260K-q4_0.gguf")]
    [InlineData("tiny-llama-f32.gguf")]
    public void Imported_folder_reproduces_golden_ids_and_logits(string name)
    {
        using var dir = new TempDir();
        var result = GgufLlamaImporter.Import(GgufFixtures.File(name), dir.Path);
        Assert.Equal("llama", result.TokenizerModel);
        using var model = LlamaForCausalLM.FromPretrained(dir.Path);
        var tokenizer = HfTokenizer.FromFolder(dir.Path);
        int compared = 0;
        foreach (var run in new[] { "bos", "text" })
        {
            var (prompt, gen, logits) = GgufFixtures.Run(name, run);
            if (run == "text") Assert.Equal(prompt, tokenizer.Encode(GgufFixtures.PromptText));
            Assert.Equal(gen, GgufFixtures.TorchGreedy(model, tokenizer, prompt, gen.Length));
            double diff = GgufFixtures.MaxAbsDiff(GgufFixtures.TorchLastLogits(model, prompt), logits);
            Assert.True(diff <= 1e-4, $"{name} {run}: max |logit diff| {diff:E2} > 1e-4");
            compared += gen.Length + logits.Length;
        }
        Assert.True(compared > 500);
    }
}
