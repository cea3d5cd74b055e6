using System.Text.Json;
using static FineTune.MLNet.Reporting.ReportFormat;

namespace FineTune.MLNet.Reporting;

/// <summary>The training and validation curves of a run, from <c>metrics.jsonl</c>: loss, learning rate, gradient norm, throughput, validation scores.</summary>
public static class CurveSections
{
    /// <summary>The section, or null when the log is empty.</summary>
    public static ReportSection? Build(RunMetricsLog log, string task)
    {
        if (log.Train.Count == 0 && log.Eval.Count == 0) return null;
        var blocks = new List<ReportBlock>();
        var train = log.Train;
        var eval = log.Eval;
        var loss = new List<ChartSeries>();
        if (train.Count > 0) loss.Add(RunReportBuilder.Series("training loss (per step)", train, "step", "loss"));
        if (eval.Any(e => RunMetrics.NumberOf(e, "validation_loss") is not null)) loss.Add(RunReportBuilder.Series("validation loss", eval, "step", "validation_loss"));
        if (loss.Count > 0)
        {
            blocks.Add(new ReportParagraph($"The training loss of each of the {train.Count} optimizer steps (mean over its batch) and the validation loss at each of the "
                                           + $"{eval.Count} validation passes. Both falling means the model learns; a validation loss that rises while the training loss "
                                           + "falls means over-fitting." + (task == "dpo" ? " For DPO the loss starts at ln 2 = 0.6931." : "")));
            blocks.Add(new ReportFigure("loss.png", "Training and validation loss", ReportCharts.Lines("Loss", "optimizer step", "loss", loss)));
        }
        if (train.Count > 0)
        {
            blocks.Add(new ReportParagraph("The learning rate of each step: linear warmup, then the decay schedule."));
            blocks.Add(new ReportFigure("learning-rate.png", "Learning rate", ReportCharts.Lines("Learning rate", "optimizer step", "learning rate",
                [RunReportBuilder.Series("learning rate", train, "step", "learning_rate")], "G3")));
        }
        if (train.Any(l => RunMetrics.NumberOf(l, "grad_norm") is not null))
        {
            blocks.Add(new ReportParagraph("The gradient norm of each step before clipping (a spike is an unstable step), and the throughput in non-padding tokens per second since the start of the run."));
            blocks.Add(new ReportFigure("grad-norm.png", "Gradient norm", ReportCharts.Lines("Gradient norm (before clipping)", "optimizer step", "L2 norm",
                [RunReportBuilder.Series("grad norm", train, "step", "grad_norm")])));
            blocks.Add(new ReportFigure("tokens-per-second.png", "Throughput", ReportCharts.Lines("Throughput since the start", "optimizer step", "tokens/s",
                [RunReportBuilder.Series("tokens/s", train, "step", "tokens_per_second")], "F0")));
        }
        if (eval.Count > 0)
        {
            var keys = new[] { ("validation_loss", "validation loss"), ("accuracy", "accuracy"), ("macro_f1", "macro-F1"), ("rewards/margins", "rewards/margins"), ("rewards/accuracies", "rewards/accuracies") }
                .Where(k => eval.Any(e => RunMetrics.NumberOf(e, k.Item1) is not null))
                .Where(k => task != "dpo" || k.Item1 is not ("accuracy" or "macro_f1")).ToList();   // DPO's validation accuracy is rewards/accuracies again
            blocks.Add(new ReportParagraph("Each validation pass:"));
            blocks.Add(new ReportTable(["epoch", "step", .. keys.Select(k => k.Item2)], eval.Select(e => (IReadOnlyList<string>)
                [Number(RunMetrics.NumberOf(e, "epoch"), "F0"), Number(RunMetrics.NumberOf(e, "step"), "F0"), .. keys.Select(k => Number(RunMetrics.NumberOf(e, k.Item1)))]).ToList()));
            if (keys.Any(k => k.Item1 == "accuracy"))
            {
                var scores = new List<ChartSeries> { RunReportBuilder.Series("accuracy", eval, "step", "accuracy") };
                if (keys.Any(k => k.Item1 == "macro_f1")) scores.Add(RunReportBuilder.Series("macro-F1", eval, "step", "macro_f1"));
                blocks.Add(new ReportFigure("validation-scores.png", "Validation accuracy and macro-F1", ReportCharts.Lines("Validation scores", "optimizer step", "score", scores)));
            }
        }
        return new ReportSection("Training and validation curves", blocks);
    }

    /// <summary>The last value of <paramref name="key"/> in <paramref name="records"/>, or null.</summary>
    public static double? Last(IReadOnlyList<JsonElement> records, string key)
    {
        for (var i = records.Count - 1; i >= 0; i--)
        {
            if (RunMetrics.NumberOf(records[i], key) is { } v) return v;
        }
        return null;
    }
}
