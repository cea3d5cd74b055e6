using System.Diagnostics;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Peft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// LoRA's forward overhead over full fine-tuning (diagnostic scenario <c>lora-overhead</c>), measured by alternating the
/// variants in one process (round-robin, best of N each, so a noisy shared machine hits all of them alike): full
/// fine-tuning, LoRA r 8 on query/value with dropout 0.1 (the default) and 0, and the adapter's pieces alone; the
/// forward ratios are given as best-of and as the median of per-round ratios (robust to slowly changing load). The
/// chunked-uniform pieces measure whether drawing a mask in parallel chunks (libtorch's CPU generator is serial) pays.
/// </summary>
internal static class LoraOverhead
{
    public static ScenarioResult Run(BenchmarkSettings settings)
    {
        var values = new Dictionary<string, double>();
        using var pretrained = PretrainedEncoder.LoadMiniLm();
        long b = settings.BatchSize, t = settings.SequenceLength;
        using var scope = NewDisposeScope();
        var (ids, mask, types, labels) = RandomBatch.Create(settings);

        var variants = new (string Name, LoraSettings? Lora)[]
        {
            ("full", null),
            ("lora_p01", MiniLm.LoraR8),
            ("lora_p0", MiniLm.LoraR8 with { Dropout = 0 }),
        };
        var models = variants.Select(v => (v.Name, Step: new TrainingStep(MiniLm.Create(pretrained, v.Lora)))).ToList();
        var best = models.ToDictionary(m => m.Name, _ => (F: double.MaxValue, G: double.MaxValue, S: double.MaxValue));
        var rounds = 2 * settings.TimedSteps + 2;
        var forwards = models.ToDictionary(m => m.Name, _ => new List<double>());   // per round, for paired ratios
        for (var round = 0; round < rounds + settings.WarmupSteps; round++)
        {
            foreach (var (name, step) in models)
            {
                var (f, g, o) = step.Run(ids, mask, types, labels);
                if (round < settings.WarmupSteps) continue;
                forwards[name].Add(f);
                var old = best[name];
                best[name] = (Math.Min(old.F, f), Math.Min(old.G, g), Math.Min(old.S, f + g + o));
            }
        }
        foreach (var (name, (f, g, s)) in best)
        {
            values[$"{name}_forward_s"] = f;
            values[$"{name}_backward_s"] = g;
            values[$"{name}_step_s"] = s;
        }
        values["lora_p01_forward_ratio"] = best["lora_p01"].F / best["full"].F;
        values["lora_p0_forward_ratio"] = best["lora_p0"].F / best["full"].F;
        // Median over rounds of the ratio within a round (the variants ran back to back): robust to load that changes slowly.
        values["lora_p01_forward_ratio_paired_median"] = PairedMedian(forwards["lora_p01"], forwards["full"]);
        values["lora_p0_forward_ratio_paired_median"] = PairedMedian(forwards["lora_p0"], forwards["full"]);
        foreach (var (_, step) in models) step.Dispose();

        // The adapter's pieces on one (B, T, H) activation, 12 times (query and value in 6 layers), as in a forward.
        var h = pretrained.Config.HiddenSize;
        var x = randn([b, t, h]).requires_grad_(true);                          // (B, T, H)
        var a = randn([8, h]).mul_(0.05).requires_grad_(true);                  // (r, H)
        var bw = randn([h, 8]).mul_(0.05).requires_grad_(true);                 // (H, r)
        var w = randn([h, h]).mul_(0.05);                                       // (H, H)
        var bias = zeros([h]);
        values["piece_base_linear_s"] = BestOf(rounds, () => nn.functional.linear(x, w, bias));
        values["piece_dropout01_s"] = BestOf(rounds, () => nn.functional.dropout(x, 0.1, true));
        values["piece_bernoulli_s"] = BestOf(rounds, () => empty_like(x).bernoulli_(0.9));
        values["piece_rand_s"] = BestOf(rounds, () => rand_like(x));
        values["piece_randint_u8_s"] = BestOf(rounds, () => randint_like(x, 0, 256, dtype: ScalarType.Byte));
        values["piece_mask_mul_s"] = BestOf(rounds, () => x.mul(rand_like(x).ge_(0.1)).div_(0.9));
        values["piece_mask_dropout01_s"] = BestOf(rounds, () => FineTune.MLNet.Modules.MaskDropout.Apply(x, 0.1, true));
        values["piece_uniform_chunks_serial_s"] = BestOf(rounds, () => Chunked(x, parallel: false));
        values["piece_uniform_chunks_parallel_s"] = BestOf(rounds, () => Chunked(x, parallel: true));
        values["piece_adapter_matmuls_s"] = BestOf(rounds, () => nn.functional.linear(nn.functional.linear(x, a), bw));
        values["piece_add_scaled_s"] = BestOf(rounds, () => nn.functional.linear(x, w, bias).add_(x, alpha: 2.0));
        return new ScenarioResult("lora-overhead", values);
    }

    private static readonly ThreadLocal<Generator> Pool = new(() => new Generator(0, CPU));

    private static Tensor Chunked(Tensor x, bool parallel)
    {
        var n = x.numel(); const int c = 1 << 16;
        var chunks = (int)((n + c - 1) / c);
        var u = empty(x.shape);
        var flat = u.view(-1);
        void One(int i)
        {
            var g = Pool.Value!; g.manual_seed(i + 1);
            using var part = flat.narrow(0, (long)i * c, Math.Min(c, n - (long)i * c));
            part.uniform_(0, 1, g);
        }
        if (parallel) Parallel.For(0, chunks, One); else for (var i = 0; i < chunks; i++) One(i);
        return u;
    }

    private static double PairedMedian(List<double> variant, List<double> baseline)
    {
        var ratios = variant.Zip(baseline, (v, b) => v / b).Order().ToArray();
        return ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[ratios.Length / 2 - 1] + ratios[ratios.Length / 2]) / 2;
    }

    /// <summary>Best time of <paramref name="rounds"/> runs of 12 calls (a forward's query and value layers).</summary>
    private static double BestOf(int rounds, Func<Tensor> op)
    {
        var best = double.MaxValue;
        for (var i = 0; i < rounds + 1; i++)
        {
            using var s = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            for (var k = 0; k < 12; k++) op();
            if (i > 0) best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
