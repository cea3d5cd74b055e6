using System.Diagnostics;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// LoRA / QLoRA SFT steps on <see cref="SmallLlama"/> at batch B × T (<see cref="SmallLlama.Step"/>: chunked head +
/// cross-entropy, backward, clip, AdamW over the adapters, r 16 on all linear layers). The base is loaded through the
/// checkpoint loader, so QLoRA quantizes it to NF4 exactly as a user's run does.
/// </summary>
internal static class SftThroughput
{
    public static ScenarioResult Run(BenchmarkSettings settings, bool qlora)
    {
        var dir = SmallLlama.CreateCheckpoint();
        using var model = LlamaForCausalLM.FromPretrained(dir, SmallLlama.Lora(qlora));
        model.train();
        using var optimizer = SmallLlama.Optimizer(model);
        long b = Math.Max(1, settings.BatchSize / 2), t = 2 * settings.SequenceLength;
        random.manual_seed(0);
        using var ids = randint(3, SmallLlama.Vocab, [b, t], dtype: ScalarType.Int64);   // (B, T)

        double Step()
        {
            var clock = Stopwatch.StartNew();
            SmallLlama.Step(model, optimizer, ids);
            return clock.Elapsed.TotalSeconds;
        }

        for (var i = 0; i < settings.WarmupSteps; i++) Step();
        var seconds = Enumerable.Range(0, settings.TimedSteps).Select(_ => Step()).Average();
        var linears = model.named_modules().Select(m => m.module).OfType<LoraLinear>().ToList();
        var (perToken6N, perTokenNeeded, baseParams) = SmallLlama.FlopsPerToken(model, t);
        Directory.Delete(dir, recursive: true);
        return new ScenarioResult(qlora ? "sft-qlora" : "sft-lora", new()
        {
            ["step_s"] = seconds,
            ["tokens_per_s"] = b * t / seconds,
            ["batch"] = b,
            ["sequence"] = t,
            ["model_gflop_per_step"] = b * t * perToken6N / 1e9,
            ["needed_gflop_per_step"] = b * t * perTokenNeeded / 1e9,
            ["base_linear_params"] = baseParams,
            ["base_bytes_per_param"] = linears.Sum(l => (double)l.BaseWeightBytes) / baseParams,
            ["trainable_params"] = model.parameters().Where(p => p.requires_grad).Sum(p => (double)p.numel()),
        });
    }
}
