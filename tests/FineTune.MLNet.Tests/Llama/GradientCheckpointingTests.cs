using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;
using Xunit;
using static FineTune.MLNet.Tests.TestSupport.Close;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Llama;

/// <summary>
/// Activation checkpointing per decoder layer (issue 11 §1): on the tiny llama fixture, with full parameters and with
/// LoRA (dropout 0.1 in training mode, so the recomputation must replay the random generator), the gradients with
/// checkpointing equal the plain ones to 1e-6, the random stream after the backward is the same, and a short SFT run
/// ends with the same weights.
/// </summary>
public sealed class GradientCheckpointingTests
{
    private static readonly LoraSettings Lora = new() { Rank = 4, Alpha = 8, Dropout = 0.1, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] };

    [Fact]
    public void FullParameterGradientsEqualThePlainOnes() => AssertSameGradients(lora: null);

    [Fact]
    public void LoraGradientsWithDropoutEqualThePlainOnes() => AssertSameGradients(Lora);

    [Fact]
    public void LoraGradientsWithoutDropoutEqualThePlainOnes() => AssertSameGradients(Lora with { Dropout = 0 });

    [Fact]
    public void ShortSftRunEndsWithTheSameWeights()
    {
        foreach (var lora in new[] { null, Lora })
        {
            var plain = Train(lora, checkpointing: false);
            var checkpointed = Train(lora, checkpointing: true);
            Assert.Equal(plain.Keys.Order(), checkpointed.Keys.Order());
            var compared = plain.Sum(kv => AssertAllClose(kv.Value, checkpointed[kv.Key], atol: 1e-6, what: $"{(lora is null ? "full" : "LoRA")} weights {kv.Key}"));
            Assert.Equal(plain.Values.Sum(w => w.Length), compared);
        }
    }

    [Fact]
    public void InferenceAndEvalModeAreUnchanged()
    {
        using var model = LlamaFixtures.Load("llama");
        var ids = LlamaFixtures.Row([1, 5, 9, 33, 7]);
        using var expected = model.Forward(ids);                        // (1, T, V)
        model.GradientCheckpointing = true;
        model.train();
        using (no_grad())
        {
            using var underNoGrad = model.Forward(ids);
            Assert.True(LlamaFixtures.MaxAbsDiff(underNoGrad, expected) <= 1e-6);
        }
        model.eval();
        using var evalMode = model.Forward(ids);
        Assert.True(LlamaFixtures.MaxAbsDiff(evalMode, expected) <= 1e-6);
    }

    private static void AssertSameGradients(LoraSettings? lora)
    {
        var (plain, plainNext) = Gradients(lora, checkpointing: false);
        var (checkpointed, checkpointedNext) = Gradients(lora, checkpointing: true);
        var scale = plain.Values.SelectMany(g => g).Max(v => Math.Abs(v));
        Assert.True(scale > 1e-4, $"the gradients are all but zero ({scale}); the comparison would be empty");
        Assert.Equal(plain.Keys.Order(), checkpointed.Keys.Order());
        var compared = plain.Sum(kv => AssertAllClose(kv.Value, checkpointed[kv.Key], atol: 1e-6 * Math.Max(1, scale), what: kv.Key));
        Assert.Equal(plain.Values.Sum(g => g.Length), compared);
        Assert.Equal(plainNext, checkpointedNext);                      // the outer random stream is where it would be
        if (lora is not null)
            Assert.True(plain.Keys.Count(k => k.Contains(".lora_A.")) == 7 * 2, "every adapter of both layers has a gradient");
    }

    /// <summary>Gradients of one SFT batch loss in training mode, and the next random number drawn after the backward.</summary>
    private static (Dictionary<string, float[]> Grads, float Next) Gradients(LoraSettings? lora, bool checkpointing)
    {
        manual_seed(17);                                                // LoRA A starts Kaiming-uniform: the same draw for both runs
        using var model = LlamaFixtures.Load("llama", lora);
        if (lora is not null) RandomizeAdapterB(model);
        model.GradientCheckpointing = checkpointing;
        model.train();
        var task = new SftTask(model, Sequences(), null, new SftCollator(0), packed: false, evalBatchSize: 4, CPU);
        manual_seed(5);
        using (var scope = NewDisposeScope()) task.ComputeLoss([0, 1, 2, 3]).LossSum.backward();
        var next = rand(1).item<float>();
        var grads = model.named_parameters().Where(p => p.parameter.requires_grad && p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray());
        return (grads, next);
    }

    private static Dictionary<string, float[]> Train(LoraSettings? lora, bool checkpointing)
    {
        manual_seed(17);
        using var model = LlamaFixtures.Load("llama", lora);
        model.GradientCheckpointing = checkpointing;
        var task = new SftTask(model, Sequences(), null, new SftCollator(0), packed: false, evalBatchSize: 4, CPU);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 2, LearningRate = 1e-2, WarmupRatio = 0, Seed = 3 };
        new TrainingLoop(options, null).Run(model, task);
        return model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
    }

    /// <summary>PEFT starts B at zero, which would leave A without a gradient.</summary>
    private static void RandomizeAdapterB(LlamaForCausalLM model)
    {
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters().Where(p => p.name.Contains(".lora_B.")))
            p.copy_(randn_like(p).mul(0.1));
    }

    private static List<SftSequence> Sequences()
    {
        var rng = new Random(21);
        return [.. Enumerable.Range(0, 4).Select(i =>
        {
            var length = 7 + 2 * i;
            var ids = Enumerable.Range(0, length).Select(_ => 3 + rng.Next(120)).ToArray();
            var labels = ids.Select((id, t) => t < 2 + i ? CausalLmLoss.IgnoreIndex : id).ToArray();
            return new SftSequence(ids, labels, Enumerable.Range(0, length).ToArray(), new int[length]);
        })];
    }
}
