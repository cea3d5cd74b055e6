using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using Xunit;
using static TorchSharp.torch;
using static FineTune.MLNet.Tests.Llama.LlamaFixtures;

namespace FineTune.MLNet.Tests.Llama;

public class LlamaLoadingTests
{
    private static string EditCheckpoint(string fixture, Action<Dictionary<string, Tensor>> edit)
    {
        var dir = CopyToTemp(fixture);
        var tensors = SafeTensorsFile.Load(Path.Combine(dir, "model.safetensors"));
        edit(tensors);
        SafeTensorsFile.Save(Path.Combine(dir, "model.safetensors"), tensors);
        return dir;
    }

    [Fact]
    public void ParameterNamesAreHuggingFaces()
    {
        using var untied = Load("llama");
        var names = untied.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("model.embed_tokens.weight", names);
        Assert.Contains("model.layers.1.self_attn.k_proj.weight", names);
        Assert.Contains("model.layers.0.mlp.down_proj.weight", names);
        Assert.Contains("model.layers.0.post_attention_layernorm.weight", names);
        Assert.Contains("model.norm.weight", names);
        Assert.Contains("lm_head.weight", names);
        Assert.Equal(SafeTensorsFile.ReadHeader(Path.Combine(Dir("llama"), "model.safetensors")).Keys.ToHashSet(), names);

        using var qwen = Load("qwen2");
        var q = qwen.named_parameters().Select(p => p.name).ToHashSet();
        Assert.DoesNotContain("lm_head.weight", q);
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", q);
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", q);
    }

    [Fact]
    public void MissingLmHeadInUntiedCheckpointIsNamed()
    {
        var dir = EditCheckpoint("llama", t => t.Remove("lm_head.weight"));
        var e = Assert.Throws<InvalidDataException>(() => LlamaForCausalLM.FromPretrained(dir));
        Assert.Contains("Missing keys (1): 'lm_head.weight'", e.Message);
        Assert.Contains(dir, e.Message);
    }

    [Fact]
    public void UnexpectedKeysAreListedButLegacyInvFreqIsIgnored()
    {
        var dir = EditCheckpoint("qwen2", t =>
        {
            t["lm_head.weight"] = zeros(128, 32);
            t["model.layers.0.extra.weight"] = zeros(2);
            t["model.layers.0.self_attn.rotary_emb.inv_freq"] = zeros(4);
        });
        var e = Assert.Throws<InvalidDataException>(() => LlamaForCausalLM.FromPretrained(dir));
        Assert.Contains("Unexpected keys (2): 'lm_head.weight', 'model.layers.0.extra.weight'", e.Message);
        Assert.Contains("ties the head", e.Message);
        Assert.DoesNotContain("inv_freq", e.Message);
    }

    [Fact]
    public void ShapeMismatchNamesTheKey()
    {
        var dir = EditCheckpoint("llama", t => t["model.norm.weight"] = ones(31));
        var e = Assert.Throws<InvalidOperationException>(() => LlamaForCausalLM.FromPretrained(dir));
        Assert.Contains("model.norm.weight", e.Message);
    }

    [Fact]
    public void Bf16CheckpointIsUpcastToFloat32OnCpuOrKeptWhenAsked()
    {
        using var m = Load("llama-bf16");
        Assert.All(m.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        using var bf = LlamaForCausalLM.FromPretrained(Dir("llama-bf16"), dtype: ScalarType.BFloat16);
        Assert.All(bf.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var scope = NewDisposeScope();
        var ids = Row(Ids("llama-bf16")[0]);
        // bf16 compute stays near the float32 result (bf16 has ~3 significant digits).
        double diff = MaxAbsDiff(bf.Forward(ids), m.Forward(ids));
        Assert.True(diff < 0.1, $"bf16 vs fp32 {diff}");
    }

    [Fact]
    public void LoraTargetsAllLinearButNeverLmHeadAndFreezesTheRest()
    {
        var lora = new LoraSettings { Rank = 2, Alpha = 4, Dropout = 0, TargetModules = ["all-linear"] };
        using var m = Load("llama", lora);
        var adapted = m.LoraLayers().Select(l => l.Name).ToList();
        Assert.Equal(2 * 7, adapted.Count);
        Assert.DoesNotContain(adapted, n => n.Contains("lm_head"));
        var trainable = m.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.Equal(2 * 7 * 2, trainable.Count);
        Assert.All(trainable, n => Assert.True(n.EndsWith(".lora_A.weight") || n.EndsWith(".lora_B.weight"), n));

        using var qv = Load("llama", lora with { TargetModules = ["q_proj", "v_proj"] });
        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"],
            qv.LoraLayers().Select(l => l.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WithoutLoraEverythingTrains()
    {
        using var m = Load("qwen2");
        Assert.All(m.parameters(), p => Assert.True(p.requires_grad));
        Assert.Empty(m.LoraLayers());
    }

    [Fact]
    public void MistralRefusesSequencesLongerThanSlidingWindow()
    {
        var dir = CopyToTemp("llama");
        var path = Path.Combine(dir, "config.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["model_type"] = "mistral";
        json["sliding_window"] = 4;
        File.WriteAllText(path, json.ToJsonString());
        using var m = LlamaForCausalLM.FromPretrained(dir);
        using var scope = NewDisposeScope();
        // Within the window a mistral model equals the llama one with the same weights.
        using var llama = Load("llama");
        var shortIds = Row([1, 2, 3, 4]);
        Assert.Equal(0, MaxAbsDiff(m.Forward(shortIds), llama.Forward(shortIds)));
        var e = Assert.Throws<NotSupportedException>(() => m.Forward(Row([1, 2, 3, 4, 5])));
        Assert.Contains("sliding_window (4)", e.Message);
    }
}
