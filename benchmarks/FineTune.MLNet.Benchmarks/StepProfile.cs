using System.Diagnostics;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Training;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// Where a full fine-tuning step spends its time (diagnostic scenario <c>profile</c>): the optimizer's parts, the step
/// without dropout, and the attention kernel alone with a float mask, a boolean mask and no mask, with and without dropout.
/// </summary>
internal static class StepProfile
{
    public static ScenarioResult Run(BenchmarkSettings settings)
    {
        var values = new Dictionary<string, double>();
        using var pretrained = PretrainedEncoder.LoadMiniLm();
        using var scope = NewDisposeScope();
        var (ids, mask, types, labels) = RandomBatch.Create(settings);

        foreach (var (label, config) in new[]
                 {
                     ("dropout", pretrained.Config),
                     ("nodropout", pretrained.Config with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 }),
                 })
        {
            using var model = new BertForSequenceClassification(config with { NumLabels = MiniLm.Labels });
            using var step = new TrainingStep(model);
            for (var i = 0; i < settings.WarmupSteps; i++) step.Run(ids, mask, types, labels);
            double f = 0, g = 0, o = 0;
            for (var i = 0; i < settings.TimedSteps; i++)
            {
                var r = step.Run(ids, mask, types, labels);
                f += r.Forward; g += r.Backward; o += r.Optimizer;
            }
            values[$"{label}_forward_s"] = f / settings.TimedSteps;
            values[$"{label}_backward_s"] = g / settings.TimedSteps;
            values[$"{label}_optimizer_s"] = o / settings.TimedSteps;
        }

        ProfileOptimizer(settings, pretrained, ids, mask, types, labels, values);
        ProfileAttention(settings, values);
        ProfileQkv(settings, values);
        ProfileDropout(settings, values);
        return new ScenarioResult("profile", values);
    }

    private static void ProfileOptimizer(BenchmarkSettings settings, PretrainedEncoder pretrained, Tensor ids, Tensor mask, Tensor types, Tensor labels, Dictionary<string, double> values)
    {
        using var model = MiniLm.Create(pretrained, lora: null);
        model.train();
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        using var optimizer = new AdamW(trainable.Select(p => (p.name, p.parameter)), 0.01, name => !name.EndsWith(".bias"));
        using (var s = NewDisposeScope())
        {
            nn.functional.cross_entropy(model.forward(ids, mask, types), labels).backward();
        }
        double clip = 0, adam = 0;
        var n = settings.TimedSteps;
        for (var i = 0; i < n + 1; i++)
        {
            var clock = Stopwatch.StartNew();
            nn.utils.clip_grad_norm_(optimizer.Parameters, 1.0);
            var c = clock.Elapsed.TotalSeconds;
            optimizer.Step(2e-5);
            if (i == 0) continue;   // warm-up
            clip += c;
            adam += clock.Elapsed.TotalSeconds - c;
        }
        values["clip_grad_norm_s"] = clip / n;
        values["adamw_step_s"] = adam / n;
        values["parameters"] = trainable.Sum(p => (double)p.parameter.numel());
    }

    private static void ProfileAttention(BenchmarkSettings settings, Dictionary<string, double> values)
    {
        long b = settings.BatchSize, t = settings.SequenceLength, heads = 12, d = 32;
        using var scope = NewDisposeScope();
        var q = randn([b, heads, t, d], requires_grad: true);   // (B, nh, T, d)
        var k = randn([b, heads, t, d], requires_grad: true);   // (B, nh, T, d)
        var v = randn([b, heads, t, d], requires_grad: true);   // (B, nh, T, d)
        var keep = ones([b, 1, 1, t], dtype: ScalarType.Bool);   // (B, 1, 1, T)
        var additive = zeros([b, 1, 1, t]);                         // (B, 1, 1, T)
        var best = new Dictionary<string, double>();
        for (var i = 0; i < settings.TimedSteps + 2; i++)
        {
            foreach (var (label, m) in new (string, Tensor?)[] { ("float", additive), ("bool", keep), ("none", null) })
            {
                foreach (var p in new[] { 0.0, 0.1 })
                {
                    using var inner = NewDisposeScope();
                    var clock = Stopwatch.StartNew();
                    var y = nn.functional.scaled_dot_product_attention(q, k, v, m, p);   // (B, nh, T, d)
                    y.sum().backward();
                    var key = $"sdpa_{label}_p{p:0.0}_fwdbwd_per_layer_s";
                    best[key] = Math.Min(best.GetValueOrDefault(key, double.MaxValue), clock.Elapsed.TotalSeconds);
                    foreach (var g in new[] { q, k, v }) { g.grad?.Dispose(); g.grad = null; }
                }
            }
        }
        foreach (var (key, s) in best) values[key] = s;
    }

    /// <summary>Query, key and value as three GEMMs, or as one GEMM over their concatenated weights, forward + backward.</summary>
    private static void ProfileQkv(BenchmarkSettings settings, Dictionary<string, double> values)
    {
        long rows = settings.BatchSize * settings.SequenceLength, h = 384;
        using var scope = NewDisposeScope();
        var x = randn([rows, h], requires_grad: true);                                  // (B·T, H)
        var w = Enumerable.Range(0, 3).Select(_ => randn([h, h], requires_grad: true)).ToArray();   // 3 × (H, H)
        var bias = Enumerable.Range(0, 3).Select(_ => randn([h], requires_grad: true)).ToArray();   // 3 × (H)
        double separate = double.MaxValue, fused = double.MaxValue;
        for (var i = 0; i < 3 * settings.TimedSteps + 2; i++)
        {
            foreach (var together in new[] { false, true })
            {
                using var inner = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                Tensor loss;
                if (together)
                {
                    var y = nn.functional.linear(x, cat(w, 0), cat(bias, 0));       // (B·T, 3H)
                    loss = y.sum();
                }
                else
                {
                    loss = nn.functional.linear(x, w[0], bias[0]).sum() + nn.functional.linear(x, w[1], bias[1]).sum() + nn.functional.linear(x, w[2], bias[2]).sum();
                }
                loss.backward();
                var s = clock.Elapsed.TotalSeconds;
                if (together) fused = Math.Min(fused, s); else separate = Math.Min(separate, s);
                foreach (var p in w.Concat(bias).Append(x)) { p.grad?.Dispose(); p.grad = null; }
            }
        }
        values["qkv_separate_fwdbwd_s"] = separate;
        values["qkv_fused_fwdbwd_s"] = fused;
    }

    /// <summary>The pieces of attention-probability dropout on one layer's (B, nh, T, T) probabilities.</summary>
    private static void ProfileDropout(BenchmarkSettings settings, Dictionary<string, double> values)
    {
        using var scope = NewDisposeScope();
        var probs = rand([settings.BatchSize, 12, settings.SequenceLength, settings.SequenceLength]);   // (B, nh, T, T)
        var ops = new (string Name, Func<Tensor> Op)[]
        {
            ("dropout", () => nn.functional.dropout(probs, 0.1, true)),
            ("bernoulli", () => empty_like(probs).bernoulli_(0.9)),
            ("rand", () => rand_like(probs)),
            ("rand_ge_mul", () => probs * (rand_like(probs) >= 0.1)),
            ("bernoulli_bool", () => empty_like(probs, dtype: ScalarType.Bool).bernoulli_(0.9)),
            ("bernoulli_float_mul", () => probs * empty_like(probs).bernoulli_(0.9).div_(0.9)),
            ("softmax", () => probs.softmax(-1)),
            ("mul", () => probs * probs),
        };
        var best = new Dictionary<string, double>();
        for (var i = 0; i < settings.TimedSteps + 2; i++)
        {
            foreach (var (name, op) in ops)
            {
                using var inner = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                op();
                best[name] = Math.Min(best.GetValueOrDefault(name, double.MaxValue), clock.Elapsed.TotalSeconds);
            }
        }
        foreach (var (name, s) in best) values[$"op_{name}_s"] = s;
    }
}
