using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tests.Llama;
using FineTune.MLNet.Training.Tasks.Sft;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Sft;

/// <summary>Packed rows (block-diagonal causal attention, restarted positions) compute exactly what each example computes alone.</summary>
public sealed class PackedAttentionTests
{
    [Fact]
    public void PackedLogitsAndLossEqualSeparateForwards()
    {
        using var model = LlamaForCausalLM.FromPretrained(LlamaFixtures.Dir("llama"));
        int[][] docs = [[1, 5, 9, 14, 3], [1, 7, 7], [1, 20, 21, 22, 23, 24]];
        var examples = docs.Select(d => new SftExample(d, d.Select((t, i) => i == 0 ? CausalLmLoss.IgnoreIndex : t).ToArray(), false)).ToList();
        var packed = new SftPacker(32).Pack(examples);
        Assert.Single(packed);
        var batch = new SftCollator(0).Collate(packed);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var t = batch.ToTensors();
        var logits = model.Forward(t.InputIds, batch.CreateBlockCausalMask(), t.PositionIds);       // (1, 14, V)
        var offset = 0;
        double separateSum = 0, maxLogitDiff = 0; long separateCount = 0;
        foreach (var (doc, ex) in docs.Zip(examples))
        {
            var alone = model.Forward(tensor(doc.Select(x => (long)x).ToArray()).unsqueeze(0));       // (1, n, V)
            var diff = (logits[.., offset..(offset + doc.Length), ..] - alone).abs().max().item<float>();
            Assert.True(diff < 1e-4, $"document at {offset} differs by {diff}");
            maxLogitDiff = Math.Max(maxLogitDiff, diff);
            var (s, c) = CausalLmLoss.SumNll(alone, tensor(ex.Labels.Select(x => (long)x).ToArray()).unsqueeze(0));
            separateSum += s.item<float>(); separateCount += c.item<long>();
            offset += doc.Length;
        }
        var (sum, count) = CausalLmLoss.SumNll(logits, t.Labels);
        Assert.Equal(separateCount, count.item<long>());
        // Each token's NLL (logsumexp − logit) moves by at most 2·max|Δlogit|; plus float32 rounding of the sums.
        AssertClose(separateSum, sum.item<float>(), atol: 2 * maxLogitDiff * separateCount + 1e-5, rtol: 1e-6, what: "packed NLL sum");
    }
}
