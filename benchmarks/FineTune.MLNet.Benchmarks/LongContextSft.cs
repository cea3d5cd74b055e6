using System.Diagnostics;
using FineTune.MLNet.Models.Llama;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// A long-context LoRA SFT step (scenario <c>sft-long</c>, issue 11 §3): <see cref="SmallLlama"/> at batch 1 × 4,096
/// tokens with the default fused attention (libtorch <c>scaled_dot_product_attention</c>, causal, no mask tensor: the
/// (heads × T × T) probabilities are never held) and the chunked head + cross-entropy. Prints the resident memory after
/// the load and the process peak (VmHWM, by the runner) and, for scale, what eager attention's scores and probabilities
/// alone would hold for the backward.
/// </summary>
internal static class LongContextSft
{
    public const int Tokens = 4096;

    public static ScenarioResult Run(BenchmarkSettings settings)
    {
        var dir = SmallLlama.CreateCheckpoint(maxPositions: Tokens);
        using var model = LlamaForCausalLM.FromPretrained(dir, SmallLlama.Lora(qlora: false));
        Directory.Delete(dir, recursive: true);
        model.train();
        using var optimizer = SmallLlama.Optimizer(model);
        random.manual_seed(0);
        using var ids = randint(3, SmallLlama.Vocab, [1, Tokens], dtype: ScalarType.Int64);   // (1, T)
        var loaded = ProcessMemory.PeakResidentMiB();

        var seconds = new List<double>();
        for (var i = 0; i < 1 + settings.TimedSteps / 2; i++)
        {
            var clock = Stopwatch.StartNew();
            SmallLlama.Step(model, optimizer, ids);
            if (i > 0) seconds.Add(clock.Elapsed.TotalSeconds);
        }
        var (_, needed, _) = SmallLlama.FlopsPerToken(model, Tokens);
        var step = seconds.Average();
        return new ScenarioResult("sft-long", new()
        {
            ["step_s"] = step,
            ["tokens_per_s"] = Tokens / step,
            ["sequence"] = Tokens,
            ["needed_gflop_per_step"] = Tokens * needed / 1e9,
            ["peak_rss_after_load_mib"] = loaded,
            ["eager_scores_and_probs_mib"] = 2.0 * SmallLlama.Layers * SmallLlama.Heads * Tokens * Tokens * 4 / (1 << 20),
        });
    }
}
