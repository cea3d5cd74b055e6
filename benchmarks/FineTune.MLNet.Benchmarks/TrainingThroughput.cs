using FineTune.MLNet.Models.Bert;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>Training steps at a fixed batch of B × T real tokens (no padding): full fine-tuning or LoRA.</summary>
internal static class TrainingThroughput
{
    public static ScenarioResult Run(BenchmarkSettings settings, bool lora)
    {
        using var pretrained = PretrainedEncoder.LoadMiniLm();
        using var model = MiniLm.Create(pretrained, lora ? MiniLm.LoraR8 : null);
        using var step = new TrainingStep(model);
        using var scope = NewDisposeScope();
        long b = settings.BatchSize, t = settings.SequenceLength;
        var (ids, mask, types, labels) = RandomBatch.Create(settings);

        for (var i = 0; i < settings.WarmupSteps; i++) step.Run(ids, mask, types, labels);
        double fwd = 0, bwd = 0, opt = 0, best = double.MaxValue;
        for (var i = 0; i < settings.TimedSteps; i++)
        {
            var (f, g, o) = step.Run(ids, mask, types, labels);
            fwd += f; bwd += g; opt += o;
            best = Math.Min(best, f + g + o);
        }
        var n = settings.TimedSteps;
        var stepSeconds = (fwd + bwd + opt) / n;
        var tokens = (double)b * t;
        var config = model.Config;
        var flops = tokens * MiniLmFlops.TrainingPerToken(config, t);
        var needed = tokens * (lora ? MiniLmFlops.LoraPerToken(config, t) : MiniLmFlops.TrainingPerToken(config, t));
        return new ScenarioResult(lora ? "train-lora" : "train-full", new()
        {
            ["step_s"] = stepSeconds,
            ["best_step_s"] = best,
            ["forward_s"] = fwd / n,
            ["backward_s"] = bwd / n,
            ["optimizer_s"] = opt / n,
            ["tokens_per_s"] = tokens / stepSeconds,
            ["model_gflop_per_step"] = flops / 1e9,
            ["needed_gflop_per_step"] = needed / 1e9,
            ["trainable_params"] = model.parameters().Where(p => p.requires_grad).Sum(p => (double)p.numel()),
        });
    }
}
