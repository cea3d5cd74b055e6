using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using Xunit;
using static FineTune.MLNet.Tests.TestSupport.Close;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Llama;

/// <summary>
/// Chunked head + cross-entropy (<see cref="CausalLmLoss.SumNllChunked"/>, issue 11 §3) against the full-logits loss
/// (<see cref="CausalLmLoss.SumNll"/> of <see cref="LlamaForCausalLM.Forward"/>) on the tiny llama fixtures, untied and
/// tied head, all parameters trainable: the summed loss, the count and every gradient agree to 1e-6, for chunks smaller
/// than the batch (several chunks, a short last one) and one chunk; under no_grad the sum is the same.
/// </summary>
public sealed class ChunkedCrossEntropyTests
{
    [Theory]
    [InlineData("llama", 5)]
    [InlineData("llama", 4096)]
    [InlineData("llama-tied", 7)]
    public void LossAndGradientsEqualTheFullLogitsLoss(string fixture, int chunkTokens)
    {
        using var model = LlamaFixtures.Load(fixture);
        var (ids, labels) = Batch();
        var (fullSum, fullCount, fullGrads) = Run(model, () => CausalLmLoss.SumNll(model.Forward(ids), labels));
        var (sum, count, grads) = Run(model, () => CausalLmLoss.SumNllChunked(model.HiddenStates(ids), model.HeadWeight, labels, chunkTokens));

        Assert.Equal(fullCount, count);
        Assert.Equal(19, count);                                             // supervised labels after the shift
        AssertClose(fullSum, sum, atol: 1e-6 * Math.Abs(fullSum), what: "summed NLL");
        var scale = fullGrads.Values.SelectMany(g => g).Max(v => Math.Abs(v));
        Assert.True(scale > 1e-3, $"the gradients are all but zero ({scale})");
        Assert.Equal(fullGrads.Keys.Order(), grads.Keys.Order());
        Assert.Contains(fixture == "llama" ? "lm_head.weight" : "model.embed_tokens.weight", grads.Keys);
        var compared = fullGrads.Sum(kv => AssertAllClose(kv.Value, grads[kv.Key], atol: 1e-6 * Math.Max(1, scale), what: kv.Key));
        Assert.Equal(fullGrads.Values.Sum(g => g.Length), compared);
    }

    [Fact]
    public void UnderNoGradTheSumIsTheSame()
    {
        using var model = LlamaFixtures.Load("llama");
        var (ids, labels) = Batch();
        using var _ = no_grad();
        var full = CausalLmLoss.SumNll(model.Forward(ids), labels).Sum.item<float>();
        var chunked = CausalLmLoss.SumNllChunked(model.HiddenStates(ids), model.HeadWeight, labels, 3).Sum.item<float>();
        AssertClose(full, chunked, atol: 1e-6 * Math.Abs(full), what: "summed NLL under no_grad");
    }

    [Fact]
    public void ABatchWithoutSupervisedTokensSumsToZero()
    {
        using var model = LlamaFixtures.Load("llama");
        var (ids, _) = Batch();
        var labels = full(ids.shape, CausalLmLoss.IgnoreIndex, dtype: ScalarType.Int64);
        var (sum, count) = CausalLmLoss.SumNllChunked(model.HiddenStates(ids), model.HeadWeight, labels);
        Assert.Equal(0, count.item<long>());
        Assert.Equal(0f, sum.item<float>());
        sum.backward();                                                      // still a graph: the loop's backward must not fail
    }

    /// <summary>Two rows of 12 tokens; prompt labels −100 (row 0: 2 tokens, row 1: 3), so 9 + 8 + ... = 19 scored.</summary>
    private static (Tensor Ids, Tensor Labels) Batch()
    {
        var rng = new Random(5);
        var ids = Enumerable.Range(0, 24).Select(_ => 3L + rng.Next(120)).ToArray();
        var labels = ids.Select((id, i) => (i % 12) < (i < 12 ? 2 : 3) ? CausalLmLoss.IgnoreIndex : id).ToArray();
        return (tensor(ids, [2, 12], ScalarType.Int64), tensor(labels, [2, 12], ScalarType.Int64));
    }

    private static (double Sum, long Count, Dictionary<string, float[]> Grads) Run(LlamaForCausalLM model, Func<(Tensor Sum, Tensor Count)> loss)
    {
        model.zero_grad();
        using var scope = NewDisposeScope();
        var (sum, count) = loss();
        sum.backward();
        var grads = model.named_parameters().Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray());
        return (sum.item<float>(), count.item<long>(), grads);
    }
}
