using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using FineTune.MLNet.Tests.Llama;

namespace FineTune.MLNet.Tests.Gpu;

/// <summary>The same models on CUDA give the CPU's numbers (fp32).</summary>
public sealed class CudaParityTests
{
    [CudaFact]
    public void BertClassifierLogitsMatchCpu()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-bert");
        var config = BertConfig.FromJsonFile(Path.Combine(dir, "config.json"));
        using var cpu = new BertForSequenceClassification(config);
        StateDictLoader.LoadInto(cpu, PretrainedEncoder.NormalizeKeys(HfCheckpoint.LoadFolder(dir), config));
        cpu.eval();
        using var gpu = new BertForSequenceClassification(config);
        StateDictLoader.LoadInto(gpu, PretrainedEncoder.NormalizeKeys(HfCheckpoint.LoadFolder(dir), config));
        gpu.to(CUDA).eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ids = tensor(new long[] { 101, 7, 8, 102, 0, 101, 300, 42, 17, 102 }, [2, 5]);
        var mask = ids.ne(0).to(ScalarType.Int64);
        var a = cpu.forward(ids, mask, null);
        var b = gpu.forward(ids.cuda(), mask.cuda(), null).cpu();
        Assert.True((a - b).abs().max().item<float>() < 1e-4);
    }

    [CudaFact]
    public void LlamaLogitsMatchCpu()
    {
        using var cpu = LlamaForCausalLM.FromPretrained(LlamaFixtures.Dir("llama"));
        using var gpu = LlamaForCausalLM.FromPretrained(LlamaFixtures.Dir("llama"), device: "cuda", dtype: ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ids = tensor(new long[] { 1, 5, 9, 14, 3 }).unsqueeze(0);
        var diff = (cpu.Forward(ids) - gpu.Forward(ids.cuda()).cpu()).abs().max().item<float>();
        Assert.True(diff < 1e-4, $"CUDA logits differ from CPU by {diff}");
    }
}
