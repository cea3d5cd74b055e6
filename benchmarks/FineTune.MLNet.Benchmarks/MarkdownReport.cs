using System.Globalization;
using System.Text;

namespace FineTune.MLNet.Benchmarks;

/// <summary>Formats the scenario results as Markdown tables, with the MFU computed against the measured matmul peak.</summary>
internal static class MarkdownReport
{
    public static string Format(IReadOnlyDictionary<string, ScenarioResult> results, BenchmarkSettings settings, string loadBefore, string loadAfter)
    {
        var md = new StringBuilder();
        var matmul = results["matmul"];
        var peak = results.Values.Max(r => Math.Max(r["local_peak_gflops"], r.Values.GetValueOrDefault("peak_gflops")));
        md.AppendLine($"## FineTune.MLNet CPU benchmark{(settings.Quick ? " (--quick: few steps, numbers are rough)" : "")}");
        md.AppendLine();
        md.AppendLine($"Logical cores: {Environment.ProcessorCount}; torch threads: {matmul["threads"]}; load average before: {loadBefore}, after: {loadAfter}.");
        md.AppendLine($"Batch {settings.BatchSize} × {settings.SequenceLength} tokens, fp32, CPU; {settings.WarmupSteps} warm-up + {settings.TimedSteps} timed steps; each scenario in its own process (peak RSS = that process's VmHWM, including the model load).");
        md.AppendLine();
        md.AppendLine("### fp32 matmul peak (best of N)");
        md.AppendLine();
        md.AppendLine("| GEMM M×K×N | GFLOP/s |");
        md.AppendLine("|---|---:|");
        foreach (var (m, k, n) in MatmulPeak.Shapes) md.AppendLine($"| {m}×{k}×{n} | {F(matmul[$"gflops_{m}x{k}x{n}"], 1)} |");
        md.AppendLine($"| 2048³ in each scenario's process, just before it ran (min … max) | {F(results.Values.Min(r => r["local_peak_gflops"]), 1)} … {F(results.Values.Max(r => r["local_peak_gflops"]), 1)} |");
        md.AppendLine($"| **peak = highest rate seen (MFU denominator)** | **{F(peak, 1)}** |");
        md.AppendLine();
        md.AppendLine("### MiniLM-L6 (H 384, 12 heads, I 1536) throughput");
        md.AppendLine();
        md.AppendLine("| Scenario | Step (s) | Tokens/s | Rows/s | Model GFLOP/step | Achieved GFLOP/s | MFU | Peak RSS (MiB) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var name in new[] { "train-full", "train-lora", "inference" })
        {
            if (!results.TryGetValue(name, out var r)) continue;
            var achieved = r["model_gflop_per_step"] / r["step_s"];
            md.AppendLine($"| {Label(name)} | {F(r["step_s"], 3)} | {F(r["tokens_per_s"], 0)} | {F(settings.BatchSize / r["step_s"], 1)} | {F(r["model_gflop_per_step"], 1)} | {F(achieved, 1)} | {P(achieved / peak)} | {F(r["peak_rss_mib"], 0)} |");
        }
        md.AppendLine();
        if (results.TryGetValue("train-lora", out var lora))
        {
            var needed = lora["needed_gflop_per_step"] / lora["step_s"];
            md.AppendLine($"LoRA MFU uses the 6N convention (as if it were full fine-tuning). A LoRA step only needs ≈ 4N + 12·L·H·T FLOPs per token " +
                          $"({F(lora["needed_gflop_per_step"], 1)} GFLOP/step): {F(needed, 1)} GFLOP/s, {P(needed / peak)} of peak. Trainable parameters: {F(lora["trainable_params"], 0)}.");
            md.AppendLine();
        }
        md.AppendLine("| Training step phases (s) | Forward + loss | Backward | Clip + AdamW + zero grad |");
        md.AppendLine("|---|---:|---:|---:|");
        foreach (var name in new[] { "train-full", "train-lora" })
        {
            if (results.TryGetValue(name, out var r)) md.AppendLine($"| {Label(name)} | {F(r["forward_s"], 3)} | {F(r["backward_s"], 3)} | {F(r["optimizer_s"], 3)} |");
        }
        md.AppendLine();
        if (results.TryGetValue("reviews-dynamic", out var dyn) && results.TryGetValue("reviews-pad128", out var pad))
        {
            md.AppendLine($"### Dynamic padding: reviews.train.csv, full fine-tuning, {F(dyn["batches"], 0)} LengthBucketBatcher batches of {settings.BatchSize}");
            md.AppendLine();
            md.AppendLine("| Padding | Mean real tokens/row | Mean padded tokens/row | Step (s) | Effective tokens/s | Padded tokens/s | Peak RSS (MiB) |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var (label, r) in new[] { ("longest in batch", dyn), ("to 128", pad) })
                md.AppendLine($"| {label} | {F(r["mean_real_length"], 1)} | {F(r["mean_padded_length"], 1)} | {F(r["step_s"], 3)} | {F(r["effective_tokens_per_s"], 0)} | {F(r["padded_tokens_per_s"], 0)} | {F(r["peak_rss_mib"], 0)} |");
            md.AppendLine();
            md.AppendLine($"Dynamic padding: {F(dyn["effective_tokens_per_s"] / pad["effective_tokens_per_s"], 1)}× the effective tokens/s of padding to 128.");
            md.AppendLine();
        }
        var sft = new[] { "sft-lora", "sft-qlora" }.Where(results.ContainsKey).ToList();
        if (sft.Count > 0)
        {
            var first = results[sft[0]];
            md.AppendLine($"### SFT on a small llama (4 layers, hidden 256, GQA 8/4, intermediate 688, vocab 8192), batch {F(first["batch"], 0)} × {F(first["sequence"], 0)}, adapters r 16 on all linear layers");
            md.AppendLine();
            md.AppendLine("| Scenario | Step (s) | Tokens/s | Achieved GFLOP/s (6N) | MFU (6N) | MFU (needed ≈4N) | Base linear bytes/param | Trainable params | Peak RSS (MiB) |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var name in sft)
            {
                var r = results[name];
                var achieved = r["model_gflop_per_step"] / r["step_s"];
                var needed = r["needed_gflop_per_step"] / r["step_s"];
                md.AppendLine($"| {(name == "sft-lora" ? "LoRA" : "QLoRA (NF4 base)")} | {F(r["step_s"], 3)} | {F(r["tokens_per_s"], 0)} | {F(achieved, 1)} | {P(achieved / peak)} | {P(needed / peak)} | {F(r["base_bytes_per_param"], 3)} | {F(r["trainable_params"], 0)} | {F(r["peak_rss_mib"], 0)} |");
            }
            md.AppendLine();
            md.AppendLine("N counts the block linears and lm_head; QLoRA dequantizes each NF4 weight on the fly in forward and backward.");
            md.AppendLine();
        }
        md.AppendLine("Model FLOPs (PaLM MFU convention): per token 6·N + 12·L·H·T for training, 2·N + 4·L·H·T for inference, " +
                      "N = L·(4H² + 2·H·I) non-embedding matmul weights (10.6 M for MiniLM-L6), T = padded sequence length. " +
                      "MFU = model FLOPs per second / measured matmul peak.");
        return md.ToString();
    }

    private static string Label(string name) => name switch
    {
        "train-full" => "Training, full fine-tuning",
        "train-lora" => "Training, LoRA r=8 (query, value)",
        "inference" => "Inference (eval, no_grad)",
        _ => name,
    };

    private static string F(double v, int decimals) => double.IsNaN(v) ? "n/a" : v.ToString("N" + decimals, CultureInfo.InvariantCulture);

    private static string P(double v) => double.IsNaN(v) ? "n/a" : (v * 100).ToString("F1", CultureInfo.InvariantCulture) + " %";
}
