using FineTune.MLNet.Generation;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;

namespace FineTune.MLNet.Tests.Llama2c;

/// <summary>
/// The bundled <c>tinystories-260k</c> opened by name: greedy decoding from BOS reproduces the published llama2.c
/// sample (ids and text of the model README); the cache folder is extracted once, checked, and repaired when damaged.
/// </summary>
public sealed class BundledTinyStoriesTests
{
    [Fact]
    public void Greedy_decoding_from_bos_gives_the_published_ids_and_text()
    {
        using var model = LlamaForCausalLM.FromPretrained(PretrainedDecoders.TinyStories260K);
        var tokenizer = HfTokenizer.FromFolder(PretrainedDecoders.ResolveFolder(PretrainedDecoders.TinyStories260K));
        var result = new TextGenerator(model, tokenizer).GenerateFromIds([[1]], new GenerationOptions { MaxNewTokens = 40 })[0];
        Assert.Equal(Llama2cShared.GreedyIds[1..], result.TokenIds);
        Assert.Equal(Llama2cShared.GreedyText, result.Text);
        Assert.Equal(Llama2cShared.GreedyText, tokenizer.Decode(Llama2cShared.GreedyIds, skipSpecialTokens: true));
        Assert.Equal(Llama2cShared.GreedyIds, tokenizer.Encode(Llama2cShared.GreedyText));
    }

    [Fact]
    public void Name_resolves_case_insensitively_and_other_paths_pass_through()
    {
        Assert.True(PretrainedDecoders.IsName("TinyStories-260K"));
        Assert.False(PretrainedDecoders.IsName("minilm"));
        Assert.Equal("no/such/folder", PretrainedDecoders.ResolveFolder("no/such/folder"));
        using var dir = new TempDir();
        var named = Path.Combine(dir.Path, PretrainedDecoders.TinyStories260K);
        Directory.CreateDirectory(named);
        Assert.Equal(named, PretrainedDecoders.ResolveFolder(named));          // an existing folder wins over the name
    }

    [Fact]
    public void Cache_folder_is_extracted_checked_and_repaired()
    {
        using var dir = new TempDir();
        var previous = Environment.GetEnvironmentVariable(PretrainedDecoders.CacheVariable);
        Environment.SetEnvironmentVariable(PretrainedDecoders.CacheVariable, dir.Path);
        try
        {
            var folder = PretrainedDecoders.ResolveFolder("tinystories-260k");
            Assert.StartsWith(dir.Path, folder);
            var expected = new[] { "LICENSE", "README.md", "config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" };
            Assert.Equal(expected, Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            var weights = Path.Combine(folder, "model.safetensors");
            var good = File.ReadAllBytes(weights);
            var damaged = (byte[])good.Clone();
            damaged[^1] ^= 0xFF;
            File.WriteAllBytes(weights, damaged);
            Assert.Equal(folder, PretrainedDecoders.ResolveFolder("tinystories-260k"));
            Assert.Equal(good, File.ReadAllBytes(weights));
            Assert.Single(Directory.GetDirectories(dir.Path));                   // no temp folder left behind
        }
        finally
        {
            Environment.SetEnvironmentVariable(PretrainedDecoders.CacheVariable, previous);
        }
    }
}
