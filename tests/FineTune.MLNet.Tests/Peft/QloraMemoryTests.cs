using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Llama;
using FineTune.MLNet.Tests.TestSupport;
using Xunit;

namespace FineTune.MLNet.Tests.Peft;

/// <summary>
/// The memory check before a model is built counts QLoRA's NF4 projections at their real size: a Llama-2-7B QLoRA base
/// (about 4.4 GB) must not be refused on a 24 GB machine as if it were 25 GB of float32.
/// </summary>
public sealed class QloraMemoryTests
{
    private static LlamaConfig Llama2_7b() => new()
    {
        ModelType = "llama", VocabSize = 32000, HiddenSize = 4096, IntermediateSize = 11008, NumHiddenLayers = 32, NumAttentionHeads = 32,
    };

    [Fact]
    public void Llama2_7b_counts_float32_or_nf4_projections()
    {
        var c = Llama2_7b();
        c.Validate();
        Assert.Equal(6_738_415_616, ModelMemory.ParameterCount(c));            // HF num_parameters() of Llama-2-7b-hf
        Assert.Equal(6_476_005_376, ModelMemory.ProjectionParameterCount(c));  // 32 x (4 x 4096^2 + 3 x 4096 x 11008)
        Assert.Equal(6_738_415_616d * 4, ModelMemory.ResidentBytes(c, quantizeBase: false));
        // 262,410,240 float32 parameters (embeddings, head, norms) + 6,476,005,376 NF4 weights at 0.5159 bytes.
        var qlora = ModelMemory.ResidentBytes(c, quantizeBase: true);
        Close.AssertClose(262_410_240d * 4 + 6_476_005_376d * ModelMemory.Nf4BytesPerParameter, qlora, 1, what: "7B QLoRA bytes");
        Assert.InRange(qlora / (1L << 30), 4.0, 4.2);
    }

    [Fact]
    public void The_estimate_equals_the_bytes_a_built_qlora_model_holds()
    {
        var lora = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0, TargetModules = ["all-linear"], QuantizeBase = true };
        using var model = LlamaForCausalLM.FromPretrained(LlamaFixtures.Dir("llama"), lora);
        long held = 0;
        var counted = 0;
        foreach (var (name, tensor) in model.named_parameters().Select(p => (p.name, (TorchSharp.torch.Tensor)p.parameter)).Concat(model.named_buffers()))
        {
            if (name.Contains("lora_", StringComparison.Ordinal)) continue;   // adapters are not part of the base estimate
            held += tensor.numel() * tensor.element_size();
            counted++;
        }
        Assert.True(counted > 10, $"only {counted} base tensors counted");
        var estimate = ModelMemory.ResidentBytes(model.Config, quantizeBase: true);
        // Small fixture dims pad NF4 blocks and RoPE tables are buffers: within 10 % (float32 would be ~4x off).
        Assert.InRange(held / estimate, 0.9, 1.1);
    }
}
