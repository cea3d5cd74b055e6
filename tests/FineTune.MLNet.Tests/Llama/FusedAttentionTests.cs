using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using Xunit;
using static FineTune.MLNet.Tests.TestSupport.Close;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Llama;

/// <summary>
/// The default fused attention (libtorch <c>scaled_dot_product_attention</c>, <c>is_causal</c> without a mask tensor
/// when there is no padding and no cache; issue 11 §3) against HF's eager attention (materialised scores, float32
/// softmax) on the tiny llama fixtures (GQA, untied and tied): logits and every parameter gradient agree to 1e-5 of
/// their scale, unpadded and left-padded (logits at real positions; padding queries are opened to every key, as HF's
/// sdpa path does); incremental decoding with a cache gives the same last logits.
/// </summary>
public sealed class FusedAttentionTests
{
    [Theory]
    [InlineData("llama", false)]
    [InlineData("llama", true)]
    [InlineData("llama-tied", false)]
    public void LogitsAndGradientsEqualEagerAttention(string fixture, bool padded)
    {
        using var model = LlamaFixtures.Load(fixture);
        model.train();
        var (ids, mask) = Batch(padded);
        var (fusedLogits, fused) = Run(model, ids, mask, eager: false);
        var (eagerLogits, eager) = Run(model, ids, mask, eager: true);

        if (padded)
        {
            // Left-padding query rows differ by design (fused attention opens them to every key, as HF's sdpa path): compare real positions.
            var v = (int)model.Config.VocabSize;
            var keep = Enumerable.Range(0, eagerLogits.Length).Where(i => !(i / v >= 12 && i / v < 15)).ToArray();
            Assert.Equal(21 * v, keep.Length);
            (eagerLogits, fusedLogits) = (keep.Select(i => eagerLogits[i]).ToArray(), keep.Select(i => fusedLogits[i]).ToArray());
        }
        var logitScale = eagerLogits.Max(v => Math.Abs(v));
        Assert.True(logitScale > 1e-2, $"the logits are all but zero ({logitScale})");
        Assert.Equal(eagerLogits.Length, AssertAllClose(eagerLogits, fusedLogits, atol: 1e-5 * logitScale, what: "logits"));
        var scale = eager.Values.SelectMany(g => g).Max(v => Math.Abs(v));
        Assert.True(scale > 1e-3, $"the gradients are all but zero ({scale})");
        Assert.Equal(eager.Keys.Order(), fused.Keys.Order());
        var compared = eager.Sum(kv => AssertAllClose(kv.Value, fused[kv.Key], atol: 1e-5 * scale, what: kv.Key));
        Assert.Equal(eager.Values.Sum(g => g.Length), compared);
        Assert.True(eager.Count >= 10, $"only {eager.Count} gradients compared");
    }

    [Fact]
    public void CachedDecodingEqualsEagerAttention()
    {
        using var model = LlamaFixtures.Load("llama");
        model.eval();
        using var _ = no_grad();
        var (ids, _) = Batch(padded: false);
        float[] Last(bool eager)
        {
            model.Model.EagerAttention = eager;
            var cache = model.CreateCache();
            model.Forward(ids[.., ..^1], cache: cache).Dispose();
            return model.Forward(ids[.., ^1..], cache: cache).data<float>().ToArray();   // (B, 1, V)
        }
        var eagerLast = Last(eager: true);
        var fusedLast = Last(eager: false);
        var scale = eagerLast.Max(v => Math.Abs(v));
        Assert.Equal(eagerLast.Length, AssertAllClose(eagerLast, fusedLast, atol: 1e-5 * scale, what: "cached last-position logits"));
    }

    [Fact]
    public void EagerAttentionIsOffByDefault()
    {
        using var model = LlamaFixtures.Load("llama");
        Assert.False(model.Model.EagerAttention);
    }

    /// <summary>Two rows of 12 tokens; padded: row 1 left-padded by 3 (mask 0, position ids from the mask).</summary>
    private static (Tensor Ids, Tensor? Mask) Batch(bool padded)
    {
        var rng = new Random(11);
        var ids = tensor(Enumerable.Range(0, 24).Select(_ => 3L + rng.Next(120)).ToArray(), [2, 12], ScalarType.Int64);
        if (!padded) return (ids, null);
        var mask = tensor(Enumerable.Range(0, 24).Select(i => i >= 12 && i < 15 ? 0L : 1L).ToArray(), [2, 12], ScalarType.Int64);
        return (ids, mask);
    }

    private static (float[] Logits, Dictionary<string, float[]> Grads) Run(LlamaForCausalLM model, Tensor ids, Tensor? mask, bool eager)
    {
        model.Model.EagerAttention = eager;
        model.zero_grad();
        using var scope = NewDisposeScope();
        var positions = mask is null ? null : FineTune.MLNet.Modules.CausalMask.PositionIdsFromMask(mask);
        var logits = model.Forward(ids, mask, positions);                       // (B, T, V)
        // Padded: no loss on the pads' next-token predictions either (label 15, row 1's first real token, is predicted by a pad).
        var labels = mask is null ? ids : ids.masked_fill(mask.eq(0), CausalLmLoss.IgnoreIndex).index_put_(tensor(CausalLmLoss.IgnoreIndex, ScalarType.Int64), TensorIndex.Single(1), TensorIndex.Single(3));
        CausalLmLoss.SumNll(logits, labels).Sum.backward();
        var grads = model.named_parameters().Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray());
        return (logits.data<float>().ToArray(), grads);
    }
}
