using System.Diagnostics;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// Issue 11 §1: Llama-2-7B-shaped QLoRA on this machine. Loads <see cref="SyntheticLlama7b"/> streaming (NF4 + double
/// quant, LoRA r16 on all seven linears; embeddings and lm_head float32, the CPU compute dtype), then times training
/// steps at batch 1 × 512 tokens (forward, chunked head + cross-entropy as SFT computes it, backward, AdamW on the adapters) with and without activation checkpointing.
/// Peak RSS is taken separately for the load and for each step mode (VmHWM reset through <c>/proc/self/clear_refs</c>).
/// FLOPs follow the needed-FLOPs convention: forward 2·T·N + attention 4·T²·C per layer, backward input-gradients only
/// for the frozen base (same again) and 4·T·N_lora for the adapters; the checkpointed recomputation (one more forward of
/// the decoder layers) is reported apart and not counted in the MFU.
/// </summary>
internal static class Llama7bQlora
{
    public static ScenarioResult Run(BenchmarkSettings settings)
    {
        var steps = int.TryParse(Environment.GetEnvironmentVariable("FINETUNE_BENCH_7B_STEPS"), out var s) ? s : 1;
        const int tokens = 512;
        var values = new Dictionary<string, double>();
        var peak = MatmulPeak.QuickGflops();
        values["matmul_gflops_at_start"] = peak;

        var write = Stopwatch.StartNew();
        var dir = SyntheticLlama7b.Ensure();
        values["write_s"] = write.Elapsed.TotalSeconds;
        Report("checkpoint ready", values);

        ResetPeak();
        var load = Stopwatch.StartNew();
        var lora = new LoraSettings { Rank = 16, Alpha = 32, Dropout = 0.05, QuantizeBase = true,
            TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] };
        using var model = LlamaForCausalLM.FromPretrained(dir, lora);
        values["load_s"] = load.Elapsed.TotalSeconds;
        values["load_peak_rss_mib"] = ProcessMemory.PeakResidentMiB();
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        values["lora_params"] = trainable.Sum(p => p.numel());
        Report("loaded", values);

        var c = model.Config;
        double layerLinear = c.NumHiddenLayers * (4.0 * c.HiddenSize * c.HiddenSize + 3.0 * c.HiddenSize * c.IntermediateSize);
        double head = (double)c.VocabSize * c.HiddenSize;
        double attention = 4.0 * tokens * tokens * c.HiddenSize * c.NumHiddenLayers;
        double forward = 2.0 * tokens * (layerLinear + head) + attention + 2.0 * tokens * values["lora_params"];
        double backward = 2.0 * tokens * (layerLinear + head) + 2 * attention + 4.0 * tokens * values["lora_params"];
        double recompute = 2.0 * tokens * layerLinear + attention;
        values["needed_gflop_per_step"] = (forward + backward) / 1e9;
        values["recompute_gflop_per_step"] = recompute / 1e9;

        using var optimizer = optim.AdamW(trainable, lr: 1e-4);
        var ids = randint(3, c.VocabSize, [1, tokens], generator: new TorchSharp.torch.Generator(7), dtype: ScalarType.Int64);   // (1, T)
        model.train();
        var modes = Environment.GetEnvironmentVariable("FINETUNE_BENCH_7B_PLAIN") switch
        {
            "0" => new[] { true },          // checkpointed step only
            "only" => new[] { false },      // plain step only (the checkpointed one measured in an earlier run)
            _ => new[] { true, false },
        };
        foreach (var checkpointing in modes)
        {
            var key = checkpointing ? "ckpt" : "plain";
            var available = AvailableMiB();
            values[$"{key}_mem_available_mib_before"] = available;
            if (!checkpointing && available < PlainActivationMiBPerLayer * c.NumHiddenLayers)
            {
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] plain: skipped, MemAvailable {available:F0} MiB < {PlainActivationMiBPerLayer * c.NumHiddenLayers:F0} MiB estimated for all layers' activations");
                continue;
            }
            model.GradientCheckpointing = checkpointing;
            ResetPeak();
            var best = double.MaxValue;
            for (var i = 0; i < steps; i++)
            {
                var clock = Stopwatch.StartNew();
                using (var scope = NewDisposeScope())
                {
                    var hidden = model.HiddenStates(ids);                             // (1, T, C)
                    var (sum, count) = CausalLmLoss.SumNllChunked(hidden, model.HeadWeight, ids);   // as SftTask: chunked head + CE
                    sum.div(count.to(sum.dtype)).backward();
                    optimizer.step();
                    optimizer.zero_grad();
                }
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {key} step {i + 1}: {clock.Elapsed.TotalSeconds:F1} s, peak RSS {ProcessMemory.PeakResidentMiB():F0} MiB");
            }
            values[$"{key}_s_per_step"] = best;
            values[$"{key}_tokens_per_s"] = tokens / best;
            values[$"{key}_step_peak_rss_mib"] = ProcessMemory.PeakResidentMiB();
            values[$"{key}_achieved_gflops"] = (forward + backward) / best / 1e9;
            Report(key, values);
        }
        values["matmul_gflops_at_end"] = MatmulPeak.QuickGflops();
        var denominator = Math.Max(values["matmul_gflops_at_start"], values["matmul_gflops_at_end"]);
        foreach (var key in new[] { "ckpt", "plain" }.Where(k => values.ContainsKey($"{k}_achieved_gflops")))
            values[$"{key}_mfu"] = values[$"{key}_achieved_gflops"] / denominator;
        return new ScenarioResult("llama7b-qlora", values);
    }

    /// <summary>
    /// What the plain (non-checkpointed) step needs per decoder layer beyond the checkpointed one at 512 tokens: measured
    /// 1,148 MiB for 4 layers (peak RSS 4,074 vs 2,926 MiB, 2026-12-03), i.e. 287 MiB a layer, rounded up.
    /// </summary>
    private const double PlainActivationMiBPerLayer = 320;

    /// <summary>Linux MemAvailable in MiB (NaN elsewhere; then the plain run is attempted).</summary>
    private static double AvailableMiB()
    {
        if (!File.Exists("/proc/meminfo")) return double.PositiveInfinity;
        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
        return line is null ? double.PositiveInfinity : long.Parse(line["MemAvailable:".Length..].Trim().Split(' ')[0]) / 1024.0;
    }

    /// <summary>Resets this process's VmHWM to its current RSS (Linux ≥ 4.0), so the next peak is that phase's own.</summary>
    private static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static void Report(string phase, Dictionary<string, double> values) =>
        Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {phase}: " + string.Join(", ", values.Select(kv => $"{kv.Key}={kv.Value:G5}")));
}
