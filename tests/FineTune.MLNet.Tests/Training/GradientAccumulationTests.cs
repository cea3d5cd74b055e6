using FineTune.MLNet.Classification;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.Llama;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Classification;
using FineTune.MLNet.Training.Tasks.Dpo;
using FineTune.MLNet.Training.Tasks.Sft;
using TorchSharp;
using Xunit;
using static FineTune.MLNet.Tests.TestSupport.Close;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Training;

/// <summary>
/// Exact gradient accumulation (issue 11 §2): one accumulation group of eight examples gives the same gradients whether it
/// is one batch of 8, four batches of 2 or an uneven 3 + 5 split, for SFT (batches of different supervised-token counts),
/// DPO and classification (with and without class weights). Each test also shows that the old rule (each micro-batch's
/// mean divided by the accumulation count) differs on the same data, so the comparison can tell the two apart.
/// </summary>
public sealed class GradientAccumulationTests
{
    private static readonly int[][] OneBatch = [[0, 1, 2, 3, 4, 5, 6, 7]];
    private static readonly int[][] FourBatches = [[0, 1], [2, 3], [4, 5], [6, 7]];
    private static readonly int[][] Uneven = [[0, 1, 2], [3, 4, 5, 6, 7]];

    [Fact]
    public void SftGradientsDoNotDependOnTheMicroBatchSplit()
    {
        using var model = LlamaFixtures.Load("llama");
        model.eval();                                               // no dropout: the splits see the same function
        var rng = new Random(11);
        var sequences = Enumerable.Range(0, 8).Select(i => Sequence(rng, length: 6 + 3 * i, prompt: i % 2 == 0 ? 2 : 3 + i)).ToList();
        var task = new SftTask(model, sequences, null, new SftCollator(0), packed: false, evalBatchSize: 8, CPU);
        AssertSplitsAgree(model, task, "SFT");
    }

    [Fact]
    public void DpoGradientsDoNotDependOnTheMicroBatchSplit()
    {
        using var model = LlamaFixtures.Load("llama", new LoraSettings { Rank = 4, Alpha = 8, TargetModules = ["q_proj", "v_proj", "o_proj"], Dropout = 0 });
        model.eval();
        using (no_grad())
        {
            // LoRA B starts at zero (PEFT), which makes the policy equal to the reference: move it so the pairs differ.
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.Contains("lora_B")))
                p.copy_(randn(p.shape, generator: new Generator(7)).mul_(0.05));
        }
        var rng = new Random(5);
        var pairs = Enumerable.Range(0, 8).Select(i => DpoExample.FromIds(Ids(rng, 2 + i % 3), Ids(rng, 2 + i), Ids(rng, 7 - i % 4))).ToList();
        using var task = new DpoTask(model, pairs, null, new SftCollator(0), beta: 0.5, labelSmoothing: 0, evalBatchSize: 8, CPU, precomputeReference: false);
        AssertSplitsAgree(model, task, "DPO", naiveMustDiffer: false);   // pairs weigh the same: only the uneven split differs under the old rule
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ClassificationGradientsDoNotDependOnTheMicroBatchSplit(bool balanceClasses)
    {
        using var pretrained = PretrainedEncoder.Load(TinyClassifierData.ModelFolder());
        var config = pretrained.Config with { NumLabels = 3, Id2Label = TinyClassifierData.Labels };
        using var model = new BertForSequenceClassification(config, null);
        model.eval();
        using var classifier = new FineTunedTextClassifier(model, pretrained.Vocab, pretrained.TokenizerOptions, TinyClassifierData.Labels, 32, CPU);
        var rows = TinyClassifierData.Rows(8, 3);
        var labels = new[] { 0, 0, 0, 0, 0, 1, 1, 2 };     // unbalanced, so class weights differ per micro-batch
        var train = rows.Select((r, i) => new LabeledText(r.Text, null, labels[i])).ToList();
        using var task = new ClassificationTask(model, classifier.Tokenizer, train, null, 32, 8, CPU, balanceClasses);
        AssertSplitsAgree(model, task, balanceClasses ? "classification, class weights" : "classification", naiveMustDiffer: balanceClasses);
    }

    /// <summary>Gradients of one group as <see cref="TrainingLoop"/> takes them (through <see cref="GradientAccumulator"/>).</summary>
    private static Dictionary<string, float[]> GroupGradients(nn.Module model, ITrainingTask task, int[][] split)
    {
        model.zero_grad();
        var parameters = model.parameters().Where(p => p.requires_grad).ToList();
        using var group = new GradientAccumulator();
        foreach (var rows in split)
        {
            using var scope = NewDisposeScope();
            group.Add(task.ComputeLoss(rows));
        }
        using (NewDisposeScope())
        {
            var (_, metrics) = group.Finish(parameters);
            metrics?.Dispose();
        }
        return Gradients(model);
    }

    /// <summary>The rule before the fix: each micro-batch's mean loss divided by the number of micro-batches.</summary>
    private static Dictionary<string, float[]> NaiveGradients(nn.Module model, ITrainingTask task, int[][] split)
    {
        model.zero_grad();
        foreach (var rows in split)
        {
            using var scope = NewDisposeScope();
            task.ComputeLoss(rows).Mean().div(split.Length).backward();
        }
        return Gradients(model);
    }

    private static Dictionary<string, float[]> Gradients(nn.Module model) =>
        model.named_parameters().Where(p => p.parameter.requires_grad && p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray());

    private static void AssertSplitsAgree(nn.Module model, ITrainingTask task, string what, bool naiveMustDiffer = true)
    {
        var reference = GroupGradients(model, task, OneBatch);
        var scale = reference.Values.SelectMany(g => g).Max(v => Math.Abs(v));
        Assert.True(scale > 1e-4, $"{what}: the gradients are all but zero ({scale}); the comparison would be empty");
        foreach (var (name, split) in new[] { ("4 × 2", FourBatches), ("3 + 5", Uneven) })
        {
            var other = GroupGradients(model, task, split);
            Assert.Equal(reference.Keys.Order(), other.Keys.Order());
            var compared = reference.Sum(kv => AssertAllClose(kv.Value, other[kv.Key], atol: 1e-6 * Math.Max(1, scale), what: $"{what}, split {name}, {kv.Key}"));
            Assert.Equal(reference.Values.Sum(g => g.Length), compared);
        }
        var naive = NaiveGradients(model, task, naiveMustDiffer ? FourBatches : Uneven);
        var naiveGap = reference.Max(kv => kv.Value.Zip(naive[kv.Key]).Max(p => Math.Abs(p.First - p.Second)));
        Assert.True(naiveGap > 100 * 1e-6 * Math.Max(1, scale), $"{what}: the old per-micro-batch mean differs by only {naiveGap}; the test would not see the bug");
    }

    private static SftSequence Sequence(Random rng, int length, int prompt)
    {
        var ids = Ids(rng, length);
        var labels = ids.Select((id, t) => t < prompt ? CausalLmLoss.IgnoreIndex : id).ToArray();
        return new SftSequence(ids, labels, Enumerable.Range(0, length).ToArray(), new int[length]);
    }

    private static int[] Ids(Random rng, int length) => Enumerable.Range(0, length).Select(_ => 3 + rng.Next(120)).ToArray();
}
