using FineTune.MLNet.Tokenization;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>The benchmark's scenarios by name; each runs alone in its own process so its peak memory is its own.</summary>
internal static class Scenarios
{
    public static readonly IReadOnlyList<string> Names = ["matmul", "train-full", "train-lora", "inference", "reviews-dynamic", "reviews-pad128", "sft-lora", "sft-qlora"];

    /// <summary>Key of the number that ranks repeated runs of a scenario (higher is better).</summary>
    public static string ScoreKey(string name) => name switch
    {
        "matmul" => "peak_gflops",
        "inference" => "rows_per_s",
        "reviews-dynamic" or "reviews-pad128" => "effective_tokens_per_s",
        _ => "tokens_per_s",
    };

    public static ScenarioResult Run(string name, BenchmarkSettings settings)
    {
        var localPeak = MatmulPeak.QuickGflops();
        var result = name switch
        {
            "matmul" => MatmulPeak.Run(settings),
            "train-full" => TrainingThroughput.Run(settings, lora: false),
            "train-lora" => TrainingThroughput.Run(settings, lora: true),
            "inference" => InferenceThroughput.Run(settings),
            "reviews-dynamic" => DynamicPadding.Run(settings, PaddingMode.Longest),
            "reviews-pad128" => DynamicPadding.Run(settings, PaddingMode.MaxLength),
            "sft-lora" => SftThroughput.Run(settings, qlora: false),
            "sft-qlora" => SftThroughput.Run(settings, qlora: true),
            "profile" => StepProfile.Run(settings),
            "lora-overhead" => LoraOverhead.Run(settings),
            "serving" => ServingBenchmark.Run(settings),              // issue 9: serving engines side by side, run alone
            "sft-profile" => SftProfile.Run(settings),
            "sft-long" => LongContextSft.Run(settings),
            "llama7b-qlora" => Llama7bQlora.Run(settings),          // ~13.5 GB on disk, minutes per step: run on its own
            _ => throw new ArgumentException($"Unknown scenario '{name}'; expected one of {string.Join(", ", Names)}.", nameof(name)),
        };
        result.Values["local_peak_gflops"] = localPeak;
        result.Values["threads"] = get_num_threads();
        result.Values["peak_rss_mib"] = ProcessMemory.PeakResidentMiB();
        return result;
    }
}
