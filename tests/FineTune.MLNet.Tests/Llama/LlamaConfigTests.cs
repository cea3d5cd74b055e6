using System.Text.Json.Nodes;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Modules;
using Xunit;

namespace FineTune.MLNet.Tests.Llama;

public class LlamaConfigTests
{
    private static string Write(string json)
    {
        var path = Path.Combine(LlamaFixtures.TempDir(), "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string Base(string modelType = "llama", string extra = "") =>
        $$"""{"model_type": "{{modelType}}", "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4 {{extra}}}""";

    [Fact]
    public void ReadsFixtureConfigsWithDerivedFields()
    {
        var llama = LlamaConfig.FromJsonFile(Path.Combine(LlamaFixtures.Dir("llama"), "config.json"));
        Assert.Equal(("llama", 2, 8, false), (llama.ModelType, llama.KeyValueHeads, llama.EffectiveHeadDim, llama.TieWordEmbeddings));
        Assert.False(llama.QkvBias);
        Assert.Equal([2], llama.EosTokenIds);

        var tied = LlamaConfig.FromJsonFile(Path.Combine(LlamaFixtures.Dir("llama-tied"), "config.json"));
        Assert.True(tied.TieWordEmbeddings);
        Assert.Equal(500000, tied.RopeTheta);
        Assert.Equal(1e-5, tied.RmsNormEps);
        Assert.Equal([2, 3], tied.EosTokenIds);
        Assert.Equal(new RopeScaling { RopeType = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 256 }, tied.RopeScaling);

        var qwen = LlamaConfig.FromJsonFile(Path.Combine(LlamaFixtures.Dir("qwen2"), "config.json"));
        Assert.True(qwen.QkvBias);
        Assert.False(qwen.OutputBias);
        Assert.Null(qwen.SlidingWindow);

        var bf16 = LlamaConfig.FromJsonFile(Path.Combine(LlamaFixtures.Dir("llama-bf16"), "config.json"));
        Assert.Equal("bfloat16", bf16.TorchDtype);
    }

    [Fact]
    public void DefaultsFollowTransformersPerModelType()
    {
        var llama = LlamaConfig.FromJsonFile(Write(Base()));
        Assert.Equal((4, 1e-6, 10000.0, 1, 2048), (llama.KeyValueHeads, llama.RmsNormEps, llama.RopeTheta, llama.BosTokenId!.Value, llama.MaxPositionEmbeddings));
        var mistral = LlamaConfig.FromJsonFile(Write(Base("mistral", ", \"num_key_value_heads\": 2")));
        Assert.Equal(4096, mistral.SlidingWindow);
        Assert.Equal("MistralForCausalLM", mistral.Architecture);
        var qwen = LlamaConfig.FromJsonFile(Write(Base("qwen2", ", \"attention_bias\": false")));
        Assert.True(qwen.QkvBias);
        Assert.Null(qwen.BosTokenId);
        Assert.Empty(qwen.EosTokenIds);
    }

    [Fact]
    public void ReadsV5RopeParametersAndDtypeAndLinearScaling()
    {
        var v5 = LlamaConfig.FromJsonFile(Write(Base(extra: ", \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 123456.0}, \"dtype\": \"bfloat16\"")));
        Assert.Equal(123456, v5.RopeTheta);
        Assert.Null(v5.RopeScaling);
        Assert.Equal("bfloat16", v5.TorchDtype);
        var linear = LlamaConfig.FromJsonFile(Write(Base(extra: ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}")));
        Assert.Equal("linear", linear.RopeScaling!.RopeType);
        var inv = RopeFrequencies.Compute(8, 10000, linear.RopeScaling);
        var plain = RopeFrequencies.Compute(8, 10000);
        for (int i = 0; i < inv.Length; i++) Assert.Equal(plain[i] / 2f, inv[i]);
    }

    [Fact]
    public void Llama3FrequenciesKeepHighDivideLowAndBlendMedium()
    {
        var s = new RopeScaling { RopeType = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 256 };
        var plain = RopeFrequencies.Compute(8, 500000);
        var scaled = RopeFrequencies.Compute(8, 500000, s);
        // wavelengths 2π/inv: 6.3 (< 64: unchanged), 167 (between 64 and 256: blended), 4443 and 118k (> 256: / 8).
        Assert.Equal(plain[0], scaled[0]);
        Assert.True(scaled[1] < plain[1] && scaled[1] > plain[1] / 8);
        double smooth = (256 / (2 * Math.PI / plain[1]) - 1) / 3;
        Assert.Equal((1 - smooth) * plain[1] / 8 + smooth * plain[1], scaled[1], 1e-6);
        Assert.Equal(plain[2] / 8f, scaled[2]);
        Assert.Equal(plain[3] / 8f, scaled[3]);
        // Default frequencies: 1 / θ^(2i/d).
        for (int i = 0; i < 4; i++) Assert.Equal(1.0 / Math.Pow(500000, 2.0 * i / 8), plain[i], 1e-6 * plain[i]);
    }

    [Theory]
    [InlineData("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}", "rope_scaling.rope_type")]
    [InlineData("\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}", "rope_scaling.low_freq_factor")]
    [InlineData("\"num_key_value_heads\": 3", "num_key_value_heads")]
    [InlineData("\"hidden_act\": \"gelu\"", "hidden_act")]
    [InlineData("\"eos_token_id\": [2, 500]", "eos_token_id")]
    [InlineData("\"eos_token_id\": \"x\"", "eos_token_id")]
    [InlineData("\"rms_norm_eps\": 0", "rms_norm_eps")]
    [InlineData("\"tie_word_embeddings\": 1", "tie_word_embeddings")]
    public void InvalidFieldsAreRejectedNamingFieldAndFile(string field, string key)
    {
        var path = Write(Base(extra: ", " + field));
        var e = Assert.ThrowsAny<Exception>(() => LlamaConfig.FromJsonFile(path));
        Assert.True(e is InvalidDataException or NotSupportedException, e.GetType().Name);
        Assert.Contains($"'{key}", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MissingRequiredFieldAndUnknownModelTypeAreNamed()
    {
        var path = Write("""{"model_type": "llama", "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2}""");
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.FromJsonFile(path));
        Assert.Contains("'num_attention_heads'", e.Message);
        var gemma = Write(Base("gemma"));
        var n = Assert.Throws<NotSupportedException>(() => LlamaConfig.FromJsonFile(gemma));
        Assert.Contains("gemma", n.Message);
        var qwenSliding = Write(Base("qwen2", ", \"use_sliding_window\": true"));
        Assert.Contains("use_sliding_window", Assert.Throws<NotSupportedException>(() => LlamaConfig.FromJsonFile(qwenSliding)).Message);
    }

    [Fact]
    public void ToJsonRoundTrips()
    {
        var tied = LlamaConfig.FromJsonFile(Path.Combine(LlamaFixtures.Dir("llama-tied"), "config.json"));
        var back = LlamaConfig.FromJsonFile(Write(tied.ToJson()));
        Assert.Equal(tied with { EosTokenIds = [] }, back with { EosTokenIds = [] });
        Assert.Equal(tied.EosTokenIds, back.EosTokenIds);
        var node = JsonNode.Parse(tied.ToJson())!;
        Assert.Equal("LlamaForCausalLM", (string)node["architectures"]![0]!);
    }
}
