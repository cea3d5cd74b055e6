using static FineTune.MLNet.Reporting.ReportFormat;

namespace FineTune.MLNet.Reporting;

/// <summary>What a run cost: training time, throughput, peak memory, steps.</summary>
public static class CostSection
{
    /// <summary>Training seconds: <c>metrics.json</c>'s <c>train_seconds</c>, else the last <c>elapsed_seconds</c> of <c>metrics.jsonl</c>.</summary>
    public static double? TrainSeconds(RunFolderInputs inputs) =>
        inputs.Metrics.Number("train_seconds") ?? CurveSections.Last(inputs.Log.Train.Concat(inputs.Log.Eval).OrderBy(l => RunMetrics.NumberOf(l, "elapsed_seconds")).ToList(), "elapsed_seconds");

    /// <summary>The section, or null when nothing was recorded.</summary>
    public static ReportSection? Build(RunFolderInputs inputs)
    {
        var m = inputs.Metrics;
        var train = inputs.Log.Train;
        var rows = new List<IReadOnlyList<string>>();
        if (TrainSeconds(inputs) is { } s) rows.Add(["training time", Duration(s)]);
        var tokensPerSecond = m.Number("train_tokens_per_second") ?? CurveSections.Last(train, "tokens_per_second");
        if (tokensPerSecond is { } t) rows.Add(["throughput", $"{t:F0} tokens/s (non-padding tokens, whole run)"]);
        var peak = m.Number("peak_rss_bytes") ?? m.Number("peak_memory_bytes");
        rows.Add(["peak memory (RSS)", peak is null ? "not recorded (the CLI records it in metrics.json as peak_rss_bytes)" : Bytes(peak)]);
        if (m.Number("optimizer_steps") is { } steps) rows.Add(["optimizer steps", $"{steps:F0}"]);
        else if (train.Count > 0) rows.Add(["optimizer steps", $"{train.Count}"]);
        if (m.Number("epochs_run") is { } e) rows.Add(["epochs run", $"{e:F0}"]);
        if (rows.Count == 1 && peak is null) return null;
        return new ReportSection("Cost: time, throughput, memory",
        [
            new ReportParagraph("What the run took on this machine. Peak memory is the process's resident high-water mark (VmHWM: model, optimizer state, activations and the runtime)."),
            new ReportTable(["measure", "value"], rows),
        ]);
    }
}
