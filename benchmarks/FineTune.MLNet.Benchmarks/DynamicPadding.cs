using System.Diagnostics;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Tokenization;
using FineTune.MLNet.Training;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// Full fine-tuning steps on real review texts: batches chosen by <see cref="LengthBucketBatcher"/> and padded either to
/// the longest row (<see cref="PaddingMode.Longest"/>, what the trainer does) or to 128 tokens. Tokenization happens
/// before timing; the rate that matters is effective (non-padding) tokens per second.
/// </summary>
internal static class DynamicPadding
{
    public static ScenarioResult Run(BenchmarkSettings settings, PaddingMode padding)
    {
        using var pretrained = PretrainedEncoder.LoadMiniLm();
        var tokenizer = MiniLm.Tokenizer(pretrained);
        var texts = ReviewCorpus.ReadTexts(ReviewCorpus.Locate());
        var maxLength = settings.SequenceLength;
        var lengths = texts.Select(t => Math.Min(maxLength, tokenizer.CountTokens(t))).ToArray();
        var batches = LengthBucketBatcher.Batches(lengths, settings.BatchSize, seed: 1, epoch: 0)
            .Where(rows => rows.Length == settings.BatchSize).Take(settings.ReviewBatches).ToList();

        using var model = MiniLm.Create(pretrained, lora: null);
        using var step = new TrainingStep(model);
        using var scope = NewDisposeScope();
        random.manual_seed(0);
        var inputs = batches.Select(rows =>
        {
            var encoded = tokenizer.EncodeBatch(rows.Select(r => texts[r]).ToArray(), null, maxLength, padding);
            var (ids, mask, types) = encoded.ToTensors();                                          // (B, T) each
            var labels = randint(0, MiniLm.Labels, [rows.Length], dtype: ScalarType.Int64);      // (B)
            return (ids, mask, types, labels, Real: encoded.AttentionMask.Sum(), Padded: (long)encoded.AttentionMask.Length);
        }).ToList();

        for (var i = 0; i < settings.WarmupSteps; i++)
        {
            var w = inputs[i % inputs.Count];
            step.Run(w.ids, w.mask, w.types, w.labels);
        }
        var clock = Stopwatch.StartNew();
        foreach (var x in inputs) step.Run(x.ids, x.mask, x.types, x.labels);
        var seconds = clock.Elapsed.TotalSeconds;
        long real = inputs.Sum(x => x.Real), padded = inputs.Sum(x => x.Padded);
        var modelFlops = inputs.Sum(x => x.Padded * MiniLmFlops.TrainingPerToken(model.Config, x.ids.shape[1]));
        return new ScenarioResult(padding == PaddingMode.Longest ? "reviews-dynamic" : "reviews-pad128", new()
        {
            ["batches"] = inputs.Count,
            ["step_s"] = seconds / inputs.Count,
            ["effective_tokens_per_s"] = real / seconds,
            ["padded_tokens_per_s"] = padded / seconds,
            ["mean_real_length"] = (double)real / inputs.Count / settings.BatchSize,
            ["mean_padded_length"] = (double)padded / inputs.Count / settings.BatchSize,
            ["model_gflop_per_step"] = modelFlops / inputs.Count / 1e9,
        });
    }
}
