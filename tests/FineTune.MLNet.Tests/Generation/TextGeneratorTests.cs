using FineTune.MLNet.Generation;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;
using static FineTune.MLNet.Tests.Llama.LlamaFixtures;

namespace FineTune.MLNet.Tests.Generation;

/// <summary>Generation on the tiny "gen" fixture (vocab 320, 1 layer, byte-level BPE tokenizer).</summary>
public sealed class TextGeneratorTests : IDisposable
{
    private static readonly string[] s_prompts = ["the quick brown fox", "what is the policy for leave?", "hi"];

    private readonly LlamaForCausalLM model = LlamaForCausalLM.FromPretrained(Dir("gen"));
    private readonly HfTokenizer tokenizer = HfTokenizer.FromFolder(Dir("gen"));

    private TextGenerator Generator => new(model, tokenizer);

    private static GenerationOptions Greedy(int tokens = 12) => new() { MaxNewTokens = tokens, EosTokenIds = [] };

    public void Dispose() => model.Dispose();

    [Fact]
    public void CachedGreedyEqualsRecomputingTheWholeSequence()
    {
        var cached = Generator.Generate(s_prompts, Greedy(16));
        var uncached = Generator.Generate(s_prompts, Greedy(16) with { UseCache = false });
        for (int i = 0; i < s_prompts.Length; i++)
        {
            Assert.Equal(16, cached[i].TokenIds.Count);
            Assert.Equal(uncached[i].TokenIds, cached[i].TokenIds);
        }
        Assert.True(cached.Select(r => string.Join(",", r.TokenIds)).Distinct().Count() > 1, "prompts should lead to different outputs");
    }

    [Fact]
    public void BatchedLeftPaddedGreedyEqualsOneByOne()
    {
        var batched = Generator.Generate(s_prompts, Greedy());
        for (int i = 0; i < s_prompts.Length; i++)
        {
            var alone = Generator.Generate(s_prompts[i], Greedy());
            Assert.Equal(alone.TokenIds, batched[i].TokenIds);
            Assert.Equal(alone.Text, batched[i].Text);
        }
    }

    [Fact]
    public void TopKOneSamplingEqualsGreedy()
    {
        var greedy = Generator.Generate(s_prompts, Greedy());
        var topK1 = Generator.Generate(s_prompts, Greedy() with { DoSample = true, TopK = 1, Temperature = 0.7, Seed = 3 });
        for (int i = 0; i < s_prompts.Length; i++) Assert.Equal(greedy[i].TokenIds, topK1[i].TokenIds);
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndDiffersFromGreedy()
    {
        var o = Greedy(20) with { DoSample = true, Temperature = 1.5, Seed = 42 };
        var a = Generator.Generate(s_prompts, o);
        var b = Generator.Generate(s_prompts, o);
        var greedy = Generator.Generate(s_prompts, Greedy(20));
        for (int i = 0; i < s_prompts.Length; i++) Assert.Equal(a[i].TokenIds, b[i].TokenIds);
        Assert.Contains(Enumerable.Range(0, s_prompts.Length), i => !a[i].TokenIds.SequenceEqual(greedy[i].TokenIds));
        var c = Generator.Generate(s_prompts, o with { Seed = 43 });
        Assert.Contains(Enumerable.Range(0, s_prompts.Length), i => !a[i].TokenIds.SequenceEqual(c[i].TokenIds));
    }

    [Fact]
    public void StopsOnAnyOfSeveralEosIdsAndKeepsTheEosToken()
    {
        var free = Generator.Generate(s_prompts[0], Greedy(12));
        Assert.Equal(FinishReason.Length, free.FinishReason);
        int eos = free.TokenIds[4];
        int firstAt = free.TokenIds.ToList().IndexOf(eos);
        var stopped = Generator.Generate(s_prompts[0], Greedy(12) with { EosTokenIds = [7777, eos] });
        Assert.Equal(FinishReason.Eos, stopped.FinishReason);
        Assert.Equal(free.TokenIds.Take(firstAt + 1), stopped.TokenIds);
    }

    [Fact]
    public void StopStringCutsTheTextAndEndsOnlyThatRow()
    {
        var free = Generator.Generate(s_prompts, Greedy(16));
        var text = free[0].Text;
        Assert.True(text.Length >= 8, $"generated text too short: '{text}'");
        var stop = text.Substring(text.Length / 2, 3);
        int expectedCut = text.IndexOf(stop, StringComparison.Ordinal);
        var stopped = Generator.Generate(s_prompts, Greedy(16) with { StopStrings = [stop] });
        Assert.Equal(FinishReason.StopString, stopped[0].FinishReason);
        Assert.Equal(text[..expectedCut], stopped[0].Text);
        Assert.True(stopped[0].TokenIds.Count < 16);
        Assert.Equal(free[0].TokenIds.Take(stopped[0].TokenIds.Count), stopped[0].TokenIds);
        // Rows without the stop string run on unchanged.
        for (int i = 1; i < s_prompts.Length; i++)
        {
            if (free[i].Text.Contains(stop, StringComparison.Ordinal)) continue;
            Assert.Equal(free[i].TokenIds, stopped[i].TokenIds);
            Assert.Equal(FinishReason.Length, stopped[i].FinishReason);
        }
    }

    [Fact]
    public void DefaultEosComesFromConfigAndTokenizerAndModeIsRestored()
    {
        model.train();
        var r = Generator.Generate(s_prompts[1], new GenerationOptions { MaxNewTokens = 3 });
        Assert.True(model.training);
        Assert.Equal(3, r.TokenIds.Count);
        Assert.DoesNotContain(2, r.TokenIds.Take(2));   // "</s>" (config eos 2) would have ended it
        Assert.Throws<ArgumentOutOfRangeException>(() => Generator.Generate("x", new GenerationOptions { Temperature = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Generator.Generate("x", new GenerationOptions { TopP = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Generator.Generate("x", new GenerationOptions { StopStrings = [""] }));
    }
}
