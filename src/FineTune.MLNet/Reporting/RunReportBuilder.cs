using System.Text.Json;

namespace FineTune.MLNet.Reporting;

/// <summary>
/// Builds a <see cref="ReportDocument"/> from a run folder's files: what was trained on what, the task's results against
/// its baseline (zero-shot or base model), training and validation curves, cost (time, tokens/s, peak memory), the
/// preflight findings and the resolved config. Sections a run has no data for are left out.
/// </summary>
public static class RunReportBuilder
{
    /// <summary>
    /// The task of a run, <c>classify</c>, <c>sft</c> or <c>dpo</c>: from <c>config.json</c> (the CLI command, else the
    /// estimator), else <c>preflight.json</c>'s <c>task</c>, else the metrics present.
    /// </summary>
    public static string TaskOf(RunFolderInputs inputs)
    {
        if (inputs.Config?.Command is "classify" or "sft" or "dpo") return inputs.Config.Command;
        switch (inputs.Config?.Estimator)
        {
            case "TextClassificationFineTuneEstimator": return "classify";
            case "LoraFineTuneEstimator": return "sft";
            case "DpoFineTuneEstimator": return "dpo";
        }
        if (inputs.Preflight is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("task", out var t) && t.GetString() is "classify" or "sft" or "dpo")
            return t.GetString()!;
        if (inputs.Metrics.Has("confusion_matrix") || inputs.Log.Has("accuracy")) return "classify";
        return inputs.Metrics.Has("rewards/margins") || inputs.Log.Has("rewards/margins") ? "dpo" : "sft";
    }

    /// <summary>The whole report of <paramref name="inputs"/>.</summary>
    public static ReportDocument Build(RunFolderInputs inputs)
    {
        var task = TaskOf(inputs);
        var sections = new List<ReportSection?> { OverviewSection.Build(inputs, task) };
        sections.AddRange(task switch
        {
            "classify" => ClassificationSections.Build(inputs.Metrics),
            "dpo" => LanguageModelSections.BuildDpo(inputs.Metrics, inputs.Log, inputs.Config),
            _ => LanguageModelSections.BuildSft(inputs.Metrics),
        });
        sections.Add(CurveSections.Build(inputs.Log, task));
        sections.Add(CostSection.Build(inputs));
        sections.Add(PreflightSection.Build(inputs.Preflight));
        sections.Add(ConfigSections.Config(inputs.Config));
        sections.Add(ConfigSections.AllMetrics(inputs.Metrics));
        var read = new[] { ("config.json", inputs.Config is not null), ("metrics.jsonl", inputs.HasLog), ("metrics.json", inputs.HasFinalMetrics), ("preflight.json", inputs.Preflight is not null) }
            .Where(f => f.Item2).Select(f => f.Item1);
        var lead = $"Run folder: {Path.GetFullPath(inputs.Directory)}. Written by {FineTuneInfo.Name} from {string.Join(", ", read)}.";
        return new ReportDocument($"{TaskTitle(task)}: run report", lead, sections.OfType<ReportSection>().ToList());
    }

    private static string TaskTitle(string task) => task switch
    {
        "classify" => "Text classifier fine-tuning",
        "sft" => "Supervised fine-tuning (LoRA)",
        "dpo" => "DPO preference alignment",
        _ => task,
    };

    /// <summary>A line of <paramref name="records"/>: x and y by field name, records without a finite y left out.</summary>
    internal static ChartSeries Series(string name, IReadOnlyList<JsonElement> records, string x, string y, bool xPlusOne = false)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        foreach (var r in records)
        {
            if (RunMetrics.NumberOf(r, x) is { } xv && RunMetrics.NumberOf(r, y) is { } yv && double.IsFinite(yv))
            {
                xs.Add(xPlusOne ? xv + 1 : xv);
                ys.Add(yv);
            }
        }
        return new ChartSeries(name, xs, ys);
    }
}
