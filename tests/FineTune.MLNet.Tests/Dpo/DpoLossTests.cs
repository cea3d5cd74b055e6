using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Training.Tasks.Dpo;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Dpo;

public sealed class DpoLossTests
{
    private static Tensor T(double[] v) => tensor(v, dtype: ScalarType.Float64);

    [Fact]
    public void LossAndTrlMetricsMatchTheReference()
    {
        var cases = DpoFixtures.Golden("losses").EnumerateArray().ToList();
        Assert.Equal(4, cases.Count);
        foreach (var c in cases)
        {
            var inputs = c.GetProperty("inputs");
            using var scope = NewDisposeScope();
            var pc = T(DpoFixtures.Doubles(inputs.GetProperty("policy_chosen")));
            var pr = T(DpoFixtures.Doubles(inputs.GetProperty("policy_rejected")));
            var rc = T(DpoFixtures.Doubles(inputs.GetProperty("ref_chosen")));
            var rr = T(DpoFixtures.Doubles(inputs.GetProperty("ref_rejected")));
            var result = DpoLoss.Sigmoid(pc, pr, rc, rr, c.GetProperty("beta").GetDouble(), c.GetProperty("label_smoothing").GetDouble());
            var metrics = DpoMetrics.FromSums(DpoMetrics.Sums(result, pc, pr))!.ToTrlNames();
            var expected = c.GetProperty("expected");
            foreach (var name in DpoFixtures.TrlMetricNames)
                Assert.True(Math.Abs(metrics[name] - expected.GetProperty(name).GetDouble()) < 1e-6, $"{name}: {metrics[name]} vs {expected.GetProperty(name).GetDouble()}");
            AssertClose(expected.GetProperty("loss").GetDouble(), result.Loss.item<double>(), atol: 1e-12, rtol: 1e-12);
            var losses = result.Losses.data<double>().ToArray();
            var expectedLosses = DpoFixtures.Doubles(expected.GetProperty("losses"));
            for (int i = 0; i < losses.Length; i++) AssertClose(expectedLosses[i], losses[i], atol: 1e-12, rtol: 1e-12);
        }
    }

    [Fact]
    public void HandComputedValues()
    {
        using var scope = NewDisposeScope();
        // Δ = (−1 − −2) − (−1.5 − −1.5) = 1, β = 0.5: loss = −log σ(0.5) = log(1 + e^−0.5).
        var r = DpoLoss.Sigmoid(T([-1.0]), T([-2.0]), T([-1.5]), T([-1.5]), beta: 0.5);
        AssertClose(Math.Log(1 + Math.Exp(-0.5)), r.Loss.item<double>(), atol: 1e-12, rtol: 1e-12);
        AssertClose(0.25, r.ChosenRewards.item<double>(), atol: 1e-12, rtol: 1e-12);
        AssertClose(-0.25, r.RejectedRewards.item<double>(), atol: 1e-12, rtol: 1e-12);
        // cDPO with ε = 0.2: 0.8·log(1 + e^−0.5) + 0.2·log(1 + e^0.5).
        var s = DpoLoss.Sigmoid(T([-1.0]), T([-2.0]), T([-1.5]), T([-1.5]), beta: 0.5, labelSmoothing: 0.2);
        AssertClose(0.8 * Math.Log(1 + Math.Exp(-0.5)) + 0.2 * Math.Log(1 + Math.Exp(0.5)), s.Loss.item<double>(), atol: 1e-12, rtol: 1e-12);
        // Policy equal to the reference: every pair costs log 2, rewards 0, accuracy 0 (strict >).
        var z = DpoLoss.Sigmoid(T([-3.0, -7.0]), T([-4.0, -1.0]), T([-3.0, -7.0]), T([-4.0, -1.0]), beta: 0.1);
        AssertClose(Math.Log(2), z.Loss.item<double>(), atol: 1e-12, rtol: 1e-12);
        var m = DpoMetrics.FromSums(DpoMetrics.Sums(z, T([-3.0, -7.0]), T([-4.0, -1.0])))!;
        Assert.Equal((0.0, 0.0, 0.0, 0.0, 2L), (m.RewardsChosen, m.RewardsRejected, m.RewardsMargin, m.RewardsAccuracy, m.Pairs));
    }

    [Fact]
    public void GradientRaisesChosenAndLowersRejected()
    {
        var pc = T([-2.0]).requires_grad_();
        var pr = T([-2.0]).requires_grad_();
        DpoLoss.Sigmoid(pc, pr, T([-2.0]), T([-2.0]), beta: 0.1).Loss.backward();
        // d/dpc of −log σ(β(pc − pr)) at Δ = 0 is −β/2.
        AssertClose(-0.05, pc.grad!.item<double>(), atol: 1e-12, rtol: 1e-12);
        AssertClose(0.05, pr.grad!.item<double>(), atol: 1e-12, rtol: 1e-12);
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        using var scope = NewDisposeScope();
        var a = T([-1.0, -2.0]);
        Assert.Equal("beta", Assert.Throws<ArgumentOutOfRangeException>(() => DpoLoss.Sigmoid(a, a, a, a, beta: 0)).ParamName);
        Assert.Equal("labelSmoothing", Assert.Throws<ArgumentOutOfRangeException>(() => DpoLoss.Sigmoid(a, a, a, a, 0.1, 0.5)).ParamName);
        Assert.Equal("referenceRejected", Assert.Throws<ArgumentException>(() => DpoLoss.Sigmoid(a, a, a, T([-1.0]), 0.1)).ParamName);
    }
}
