using System.Text.Json.Nodes;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using Xunit;
using static TorchSharp.torch;
using static FineTune.MLNet.Tests.Llama.LlamaFixtures;

namespace FineTune.MLNet.Tests.Peft;

public class PeftAdapterIOTests
{
    private const double Tolerance = 1e-4;

    private static void AssertMatchesReference(LlamaForCausalLM m, string key, string when)
    {
        var ids = Ids(key);
        var expected = Logits(key);
        for (int i = 0; i < ids.Length; i++)
        {
            using var scope = NewDisposeScope();
            double diff = MaxAbsDiff(m.Forward(Row(ids[i]))[0], expected[i]);
            Assert.True(diff < Tolerance, $"{key} {when} sequence {i}: {diff:E2}");
        }
    }

    [Theory]
    [InlineData("lora")]          // r 4, alpha 8, q_proj + v_proj
    [InlineData("lora-rslora")]   // r 4, alpha 8 / sqrt(4), all seven projections
    public void ReferenceAdapterMatchesReferenceMergedLogitsUnmergedAndMerged(string adapter)
    {
        using var m = LlamaForCausalLM.FromPretrainedWithAdapter(Dir("llama"), Dir(adapter));
        Assert.All(m.LoraLayers(), l => Assert.False(l.Layer.Merged));
        AssertMatchesReference(m, "llama+" + adapter, "unmerged");
        m.MergeAdapters();
        Assert.All(m.LoraLayers(), l => Assert.True(l.Layer.Merged));
        AssertMatchesReference(m, "llama+" + adapter, "merged");
    }

    [Fact]
    public void ConfigOfReferenceAdapterIsRead()
    {
        var c = PeftAdapterIO.ReadConfig(Dir("lora-rslora"));
        Assert.Equal(("LORA", 4, 8.0, true, "CAUSAL_LM"), (c.PeftType, c.R, c.LoraAlpha, c.UseRsLora, c.TaskType));
        Assert.Equal(4.0, c.ToLoraSettings().Scaling);
        Assert.Equal(7, c.TargetModules.Count);
    }

    [Fact]
    public void SaveLoadRoundTripWritesPeftKeysShapesAndConfig()
    {
        using var m = LlamaForCausalLM.FromPretrainedWithAdapter(Dir("llama"), Dir("lora"));
        var settings = PeftAdapterIO.ReadConfig(Dir("lora")).ToLoraSettings();
        var dir = TempDir();
        PeftAdapterIO.Save(m, settings, dir, "tiny-llama");

        var reference = SafeTensorsFile.ReadHeader(Path.Combine(Dir("lora"), PeftAdapterIO.WeightsFileName));
        var saved = SafeTensorsFile.ReadHeader(Path.Combine(dir, PeftAdapterIO.WeightsFileName));
        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), saved.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", saved.Keys);
        foreach (var (k, info) in reference) Assert.Equal(info.Shape, saved[k].Shape);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftAdapterConfig.FileName)))!.AsObject();
        Assert.Equal("LORA", (string)json["peft_type"]!);
        Assert.Equal(4, (int)json["r"]!);
        Assert.Equal(8.0, (double)json["lora_alpha"]!);
        Assert.Equal(["q_proj", "v_proj"], json["target_modules"]!.AsArray().Select(n => (string)n!));
        Assert.Equal("none", (string)json["bias"]!);
        Assert.Equal("CAUSAL_LM", (string)json["task_type"]!);
        Assert.Equal("tiny-llama", (string)json["base_model_name_or_path"]!);
        Assert.False((bool)json["fan_in_fan_out"]!);
        Assert.True((bool)json["inference_mode"]!);
        Assert.False((bool)json["use_rslora"]!);
        Assert.False((bool)json["use_dora"]!);

        // The saved tensors are the loaded ones, bit for bit, and the reloaded model computes the same logits.
        var a = SafeTensorsFile.Load(Path.Combine(Dir("lora"), PeftAdapterIO.WeightsFileName));
        var b = SafeTensorsFile.Load(Path.Combine(dir, PeftAdapterIO.WeightsFileName));
        foreach (var k in a.Keys) Assert.True(a[k].eq(b[k]).all().item<bool>(), k);
        using var back = LlamaForCausalLM.FromPretrainedWithAdapter(Dir("llama"), dir);
        using var scope = NewDisposeScope();
        var ids = Row(Ids("llama")[0]);
        Assert.Equal(0, MaxAbsDiff(m.Forward(ids), back.Forward(ids)));
    }

    [Fact]
    public void AllLinearIsSavedAsTheExpandedModuleList()
    {
        var settings = new LoraSettings { Rank = 2, Alpha = 4, TargetModules = ["all-linear"] };
        using var m = Load("llama", settings);
        var dir = TempDir();
        PeftAdapterIO.Save(m, settings, dir);
        var c = PeftAdapterIO.ReadConfig(dir);
        Assert.Equal(["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"], c.TargetModules);
        Assert.Equal(2 * 7 * 2, SafeTensorsFile.ReadHeader(Path.Combine(dir, PeftAdapterIO.WeightsFileName)).Count);
        using var back = LlamaForCausalLM.FromPretrainedWithAdapter(Dir("llama"), dir);
        Assert.Equal(14, back.LoraLayers().Count());
    }

    [Fact]
    public void MergeThenUnmergeRestoresWeights()
    {
        using var m = LlamaForCausalLM.FromPretrainedWithAdapter(Dir("llama"), Dir("lora-rslora"));
        var before = m.LoraLayers().Select(l => l.Layer.Weight.detach().clone()).ToList();
        m.MergeAdapters();
        var layers = m.LoraLayers().ToList();
        Assert.True(MaxAbsDiff(layers[0].Layer.Weight, before[0]) > 1e-3);
        m.UnmergeAdapters();
        for (int i = 0; i < layers.Count; i++)
            Assert.True(MaxAbsDiff(layers[i].Layer.Weight, before[i]) < 1e-6, layers[i].Name);
    }

    [Fact]
    public void DisabledAdapterEqualsBaseModelExactlyAndScopeRestores()
    {
        using var baseModel = Load("llama");
        using var m = LlamaForCausalLM.FromPretrainedWithAdapter(Dir("llama"), Dir("lora"));
        using var scope = NewDisposeScope();
        var ids = Row(Ids("llama")[0]);
        var adapted = m.Forward(ids);
        using (m.DisableAdapters())
        {
            Assert.All(m.LoraLayers(), l => Assert.True(l.Layer.AdapterDisabled));
            Assert.Equal(0, MaxAbsDiff(m.Forward(ids), baseModel.Forward(ids)));
        }
        Assert.All(m.LoraLayers(), l => Assert.False(l.Layer.AdapterDisabled));
        Assert.Equal(0, MaxAbsDiff(m.Forward(ids), adapted));
        Assert.True(MaxAbsDiff(adapted, baseModel.Forward(ids)) > 1e-3);
    }

    [Fact]
    public void FreshAdapterEqualsBaseAndOnlyAdaptersGetGradients()
    {
        var settings = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0, TargetModules = ["q_proj", "v_proj", "down_proj"] };
        using var baseModel = Load("qwen2");
        using var m = Load("qwen2", settings);
        using var scope = NewDisposeScope();
        var ids = Row(Ids("qwen2")[0]);
        Assert.Equal(0, MaxAbsDiff(m.Forward(ids), baseModel.Forward(ids)));   // B = 0

        m.train();
        var loss = m.Forward(ids).logsumexp(-1).mean();
        loss.backward();
        foreach (var (name, p) in m.named_parameters())
        {
            bool adapter = name.Contains(".lora_A.") || name.Contains(".lora_B.");
            Assert.Equal(adapter, p.requires_grad);
            if (!adapter) Assert.True(p.grad is null, name);
        }
        // With B = 0 only B receives a gradient on the first step (dL/dA = Bᵀ·… = 0).
        var bGrad = m.named_parameters().First(p => p.name.EndsWith("q_proj.lora_B.weight")).parameter.grad!;
        Assert.True(bGrad.abs().max().item<float>() > 0);
    }

    private static string EditAdapter(string fixture, Action<JsonObject>? config = null, Action<Dictionary<string, Tensor>>? tensors = null)
    {
        var dir = CopyToTemp(fixture);
        if (config is not null)
        {
            var path = Path.Combine(dir, PeftAdapterConfig.FileName);
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            config(json);
            File.WriteAllText(path, json.ToJsonString());
        }
        if (tensors is not null)
        {
            var path = Path.Combine(dir, PeftAdapterIO.WeightsFileName);
            var t = SafeTensorsFile.Load(path);
            tensors(t);
            SafeTensorsFile.Save(path, t);
        }
        return dir;
    }

    [Theory]
    [InlineData("use_dora", "true", "DoRA")]
    [InlineData("peft_type", "\"IA3\"", "only LORA")]
    [InlineData("target_modules", "\".*proj\"", "regular expression")]
    [InlineData("rank_pattern", "{\"q_proj\": 8}", "per-module")]
    [InlineData("bias", "\"all\"", "\"none\"")]
    [InlineData("fan_in_fan_out", "true", "fan_in_fan_out")]
    public void UnsupportedOptionsAreRejectedClearly(string field, string value, string expected)
    {
        var dir = EditAdapter("lora", c => c[field] = JsonNode.Parse(value));
        var e = Assert.Throws<NotSupportedException>(() => LlamaForCausalLM.FromPretrainedWithAdapter(Dir("llama"), dir));
        Assert.Contains($"'{field}'", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains(dir, e.Message);
    }

    [Fact]
    public void RankThatDoesNotMatchTensorsIsRejected()
    {
        var dir = EditAdapter("lora", c => c["r"] = 8);
        var e = Assert.Throws<InvalidDataException>(() => LlamaForCausalLM.FromPretrainedWithAdapter(Dir("llama"), dir));
        Assert.Contains("q_proj.lora_A.weight' has shape [4, 32]", e.Message);
        Assert.Contains("[8, 32]", e.Message);
    }

    [Fact]
    public void UnexpectedAndMissingKeysAreListed()
    {
        var dir = EditAdapter("lora", tensors: t =>
        {
            t["base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight"] = zeros(4, 32);
            t["base_model.model.lm_head.lora_B.weight"] = zeros(128, 4);
            t.Remove("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight");
        });
        var e = Assert.Throws<InvalidDataException>(() => LlamaForCausalLM.FromPretrainedWithAdapter(Dir("llama"), dir));
        Assert.Contains("Unexpected keys (2", e.Message);
        Assert.Contains("'base_model.model.lm_head.lora_B.weight'", e.Message);
        Assert.Contains("'base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight'", e.Message);
        Assert.Contains("Missing tensors (1): 'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight'", e.Message);
    }

    [Fact]
    public void ModelBuiltWithOtherSettingsIsRejected()
    {
        using var m = Load("llama", new LoraSettings { Rank = 4, Alpha = 16, TargetModules = ["q_proj", "v_proj"] });
        var e = Assert.Throws<InvalidDataException>(() => PeftAdapterIO.Load(m, Dir("lora")));
        Assert.Contains("scaling", e.Message);
    }

    [Fact]
    public void UnstrippedAdapterNameIsTolerated()
    {
        var dir = EditAdapter("lora", tensors: t =>
        {
            foreach (var k in t.Keys.ToList())
            {
                t[k.Replace(".weight", ".default.weight")] = t[k];
                t.Remove(k);
            }
        });
        using var m = LlamaForCausalLM.FromPretrainedWithAdapter(Dir("llama"), dir);
        AssertMatchesReference(m, "llama+lora", "default-named keys");
    }
}
