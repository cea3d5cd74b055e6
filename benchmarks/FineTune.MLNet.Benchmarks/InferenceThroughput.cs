using System.Diagnostics;
using FineTune.MLNet.Models.Bert;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>Forward passes in eval mode under <c>no_grad</c> at a fixed batch of B × T real tokens.</summary>
internal static class InferenceThroughput
{
    public static ScenarioResult Run(BenchmarkSettings settings)
    {
        using var pretrained = PretrainedEncoder.LoadMiniLm();
        using var model = MiniLm.Create(pretrained, lora: null);
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        random.manual_seed(0);
        long b = settings.BatchSize, t = settings.SequenceLength;
        var ids = randint(1000, 30000, [b, t], dtype: ScalarType.Int64);   // (B, T)
        var mask = ones([b, t], dtype: ScalarType.Int64);                     // (B, T)
        var types = zeros([b, t], dtype: ScalarType.Int64);                   // (B, T)

        var steps = settings.TimedSteps * 2;
        for (var i = 0; i < settings.WarmupSteps; i++) model.forward(ids, mask, types).Dispose();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            using var logits = model.forward(ids, mask, types);   // (B, C)
        }
        var stepSeconds = clock.Elapsed.TotalSeconds / steps;
        var tokens = (double)b * t;
        return new ScenarioResult("inference", new()
        {
            ["step_s"] = stepSeconds,
            ["rows_per_s"] = b / stepSeconds,
            ["tokens_per_s"] = tokens / stepSeconds,
            ["model_gflop_per_step"] = tokens * MiniLmFlops.InferencePerToken(model.Config, t) / 1e9,
        });
    }
}
