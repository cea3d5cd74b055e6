using System.Diagnostics;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// Where a small-llama LoRA SFT step spends its time (diagnostic scenario <c>sft-profile</c>, issue 11 §3). The whole
/// step in four variants alternated round by round on one model (median of rounds): eager attention + full
/// (B, T, V) logits (the path before), fused attention + full logits, eager + chunked head/CE, fused + chunked (now);
/// then the pieces alone (best of N): head + cross-entropy forward/backward full vs chunked, one layer's attention
/// forward/backward eager vs fused, RoPE on q and k, GQA repeat_kv, and building the causal mask.
/// </summary>
internal static class SftProfile
{
    public static ScenarioResult Run(BenchmarkSettings settings)
    {
        var values = new Dictionary<string, double>();
        var dir = SmallLlama.CreateCheckpoint();
        using var model = LlamaForCausalLM.FromPretrained(dir, SmallLlama.Lora(qlora: false));
        Directory.Delete(dir, recursive: true);
        model.train();
        using var optimizer = SmallLlama.Optimizer(model);
        long b = Math.Max(1, settings.BatchSize / 2), t = 2 * settings.SequenceLength;
        random.manual_seed(0);
        using var ids = randint(3, SmallLlama.Vocab, [b, t], dtype: ScalarType.Int64);   // (B, T)

        var variants = new (string Name, bool Eager, bool Chunked)[]
        {
            ("eager_full", true, false), ("fused_full", false, false), ("eager_chunked", true, true), ("fused_chunked", false, true),
        };
        var times = variants.ToDictionary(v => v.Name, _ => new List<double>());
        for (var round = 0; round < settings.WarmupSteps + settings.TimedSteps + 1; round++)
        {
            foreach (var (name, eager, chunked) in round % 2 == 0 ? variants : variants.Reverse())
            {
                model.Model.EagerAttention = eager;
                var clock = Stopwatch.StartNew();
                SmallLlama.Step(model, optimizer, ids, chunked);
                if (round >= settings.WarmupSteps) times[name].Add(clock.Elapsed.TotalSeconds);
            }
        }
        model.Model.EagerAttention = false;
        var (_, needed, _) = SmallLlama.FlopsPerToken(model, t);
        foreach (var (name, list) in times)
        {
            var s = PeerComparison.Median(list);
            values[$"{name}_step_s"] = s;
            values[$"{name}_needed_gflops"] = b * t * needed / 1e9 / s;
        }
        values["needed_gflop_per_step"] = b * t * needed / 1e9;
        values["batch"] = b;
        values["sequence"] = t;

        var rounds = settings.TimedSteps + 2;
        using var scope = NewDisposeScope();
        var hidden = randn([b, t, SmallLlama.Hidden]).mul_(0.5).requires_grad_(true);                         // (B, T, C)
        var head = randn([SmallLlama.Vocab, SmallLlama.Hidden]).mul_(0.02);                                      // (V, C) frozen
        values["head_ce_full_fwdbwd_s"] = BestOf(rounds, () => CausalLmLoss.SumNll(nn.functional.linear(hidden, head), ids).Sum.backward());
        values["head_ce_chunked_fwdbwd_s"] = BestOf(rounds, () => CausalLmLoss.SumNllChunked(hidden, head, ids).Sum.backward());

        long heads = SmallLlama.Heads, kv = SmallLlama.KvHeads, d = SmallLlama.Hidden / SmallLlama.Heads;
        var q = randn([b, heads, t, d], requires_grad: true);                                                    // (B, nh, T, d)
        var k = randn([b, heads, t, d], requires_grad: true);                                                    // (B, nh, T, d)
        var v = randn([b, heads, t, d], requires_grad: true);                                                    // (B, nh, T, d)
        var causal = CausalMask.Build(1, t, 0, null, ScalarType.Float32, q.device);                              // (1, 1, T, T)
        values["attention_eager_fwdbwd_per_layer_s"] = BestOf(rounds, () =>
            matmul(matmul(q, k.transpose(2, 3)).mul(1.0 / Math.Sqrt(d)).add(causal).softmax(-1), v).sum().backward());
        values["attention_fused_fwdbwd_per_layer_s"] = BestOf(rounds, () =>
            nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, is_casual: true).sum().backward());
        values["attention_fused_float_mask_fwdbwd_per_layer_s"] = BestOf(rounds, () =>
            nn.functional.scaled_dot_product_attention(q, k, v, causal, 0.0).sum().backward());

        using var noGrad = no_grad();
        var positions = arange(t, dtype: ScalarType.Int64).unsqueeze(0).expand(b, t);                            // (B, T)
        var (cos, sin) = model.Model.Rotary.CosSin(positions, ScalarType.Float32);                               // (B, 1, T, d)
        var kvOnly = randn([b, kv, t, d]);                                                                        // (B, nkv, T, d)
        values["rope_q_and_k_per_layer_s"] = BestOf(rounds, () => { RotaryEmbedding.Apply(q, cos, sin); RotaryEmbedding.Apply(k.narrow(1, 0, kv), cos, sin); });
        values["repeat_kv_k_and_v_per_layer_s"] = BestOf(rounds, () =>
        {
            for (var i = 0; i < 2; i++) kvOnly.unsqueeze(2).expand(b, kv, heads / kv, t, d).reshape(b, heads, t, d);
        });
        values["causal_mask_build_s"] = BestOf(rounds, () => CausalMask.Build(b, t, 0, null, ScalarType.Float32, q.device));
        return new ScenarioResult("sft-profile", values);
    }

    private static double BestOf(int rounds, Action op)
    {
        var best = double.MaxValue;
        for (var i = 0; i < rounds + 1; i++)
        {
            using var s = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            op();
            if (i > 0) best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
