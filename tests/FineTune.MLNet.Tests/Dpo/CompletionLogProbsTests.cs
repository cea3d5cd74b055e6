using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Llama;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Dpo;
using FineTune.MLNet.Training.Tasks.Sft;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Dpo;

public sealed class CompletionLogProbsTests
{
    [Theory]
    [InlineData("llama", null)]
    [InlineData("llama+lora", "lora")]
    public void SummedLogProbsOfRightPaddedConcatenatedBatchMatchTheReference(string key, string? adapter)
    {
        using var model = adapter is null ? LlamaFixtures.Load("llama") : LlamaForCausalLM.FromPretrainedWithAdapter(LlamaFixtures.Dir("llama"), LlamaFixtures.Dir(adapter));
        var cases = DpoFixtures.Golden("logps").GetProperty(key).EnumerateArray().ToList();
        Assert.Equal(3, cases.Count);
        // Pairs (case i as chosen, case (i+1)%3 as rejected won't share prompts), so score the cases as chosen sides of
        // pairs whose rejected side is case 0: one forward over 2B right-padded rows of different lengths.
        var sides = cases.Select(c => DpoExample.FromIds(DpoFixtures.Ints(c.GetProperty("prompt")), DpoFixtures.Ints(c.GetProperty("completion")), [5])).ToList();
        var pairs = sides.Select((s, i) => s with { Rejected = sides[(i + 1) % sides.Count].Chosen }).ToList();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (chosen, rejected) = CompletionLogProbs.OfPairs(model, pairs, new SftCollator(padId: 0), CPU);   // (3), (3)
        var c = chosen.data<float>().ToArray();
        var r = rejected.data<float>().ToArray();
        for (int i = 0; i < cases.Count; i++)
        {
            var expected = cases[i].GetProperty("logp").GetDouble();
            Assert.True(Math.Abs(c[i] - expected) < 1e-4, $"{key} case {i}: {c[i]} vs {expected}");
            var expectedRejected = cases[(i + 1) % cases.Count].GetProperty("logp").GetDouble();
            Assert.True(Math.Abs(r[i] - expectedRejected) < 1e-4, $"{key} rejected {i}: {r[i]} vs {expectedRejected}");
        }
    }

    [Fact]
    public void DpoTaskWithAdapterPolicyAndDisabledAdapterReferenceMatchesTheReference()
    {
        var golden = DpoFixtures.Golden("dpo_model");
        var pairs = golden.GetProperty("triples").EnumerateArray()
            .Select(t => DpoExample.FromIds(DpoFixtures.Ints(t.GetProperty("prompt")), DpoFixtures.Ints(t.GetProperty("chosen")), DpoFixtures.Ints(t.GetProperty("rejected"))))
            .ToList();
        var expected = golden.GetProperty("expected");
        foreach (var precompute in new[] { false, true })
        {
            using var model = LlamaForCausalLM.FromPretrainedWithAdapter(LlamaFixtures.Dir("llama"), LlamaFixtures.Dir("lora"));
            using var task = new DpoTask(model, pairs, pairs, new SftCollator(0), golden.GetProperty("beta").GetDouble(), 0, evalBatchSize: 1, CPU, precompute);
            using (var scope = NewDisposeScope())
            {
                var batchLoss = task.ComputeLoss([0, 1]);
                var (loss, tokens, sums) = (batchLoss.Mean(), batchLoss.Tokens, batchLoss.MetricSums);
                Assert.Equal(2.0, batchLoss.Items);
                Assert.True(Math.Abs(loss.item<float>() - expected.GetProperty("loss").GetDouble()) < 1e-5, $"loss {loss.item<float>()}");
                Assert.Equal(pairs.Sum(p => p.TokenCount), tokens);
                var metrics = ((ITrainingTask)task).StepMetrics(sums!)!;
                foreach (var name in DpoFixtures.TrlMetricNames)
                    Assert.True(Math.Abs(metrics[name] - expected.GetProperty(name).GetDouble()) < 1e-4, $"precompute {precompute}, {name}: {metrics[name]} vs {expected.GetProperty(name)}");
                Assert.Equal((double)pairs.Count, metrics["pairs"]);
            }

            var v = task.Validate()!;   // batches of one pair, summed the same
            Assert.True(Math.Abs(v.Loss - expected.GetProperty("loss").GetDouble()) < 1e-5);
            Assert.Equal(expected.GetProperty("rewards/accuracies").GetDouble(), v.Accuracy);
            Assert.Null(v.MacroF1);
            Assert.True(Math.Abs(v.Metrics!["rewards/margins"] - expected.GetProperty("rewards/margins").GetDouble()) < 1e-4);
        }
    }

    [Fact]
    public void FreshAdaptersGiveLossExactlyLog2AndZeroRewards()
    {
        using var model = LlamaFixtures.Load("llama", new LoraSettings { Rank = 4, Alpha = 8, TargetModules = ["q_proj", "v_proj"], Dropout = 0 });
        var pairs = new[] { DpoExample.FromIds([1, 5, 9], [17, 33, 2], [40, 2]), DpoExample.FromIds([1, 100], [3, 64, 2], [90, 91, 92, 93, 2]) };
        using var task = new DpoTask(model, pairs, null, new SftCollator(0), beta: 0.1, labelSmoothing: 0, evalBatchSize: 2, CPU, precomputeReference: false);
        using var scope = NewDisposeScope();
        var batchLoss = task.ComputeLoss([0, 1]);
        var (loss, sums) = (batchLoss.Mean(), batchLoss.MetricSums);
        AssertClose(Math.Log(2), loss.item<float>(), atol: 1e-6, what: "DPO loss at policy = reference (float32 log 2)");
        var m = DpoMetrics.FromSums(sums!)!;
        Assert.Equal((0.0, 0.0, 0.0, 0.0), (m.RewardsChosen, m.RewardsRejected, m.RewardsMargin, m.RewardsAccuracy));
        Assert.True(m.LogpsChosen < 0 && m.LogpsRejected < 0);
    }

    [Fact]
    public void TaskRefusesAModelWithoutAdapters()
    {
        using var model = LlamaFixtures.Load("llama");
        var e = Assert.Throws<ArgumentException>(() => new DpoTask(model, [DpoExample.FromIds([1], [2], [3])], null, new SftCollator(0), 0.1, 0, 1, CPU, false));
        Assert.Contains("LoRA", e.Message);
    }
}
