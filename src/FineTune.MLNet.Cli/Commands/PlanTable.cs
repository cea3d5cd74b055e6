using System.Globalization;
using System.Text;
using System.Text.Json;
using FineTune.MLNet.Planning;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>The text tables of <c>finetune plan</c> (a plan, or a comparison of runs) and its JSON settings.</summary>
internal static class PlanTable
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string Format(PlanResult p)
    {
        var text = new StringBuilder();
        text.AppendLine($"plan {p.Task}: {p.Model}, {p.TrainRows} training rows, batch {p.BatchSize}, longest example {p.SequenceLength} tokens (--max-length {p.MaxLength}), " +
                        $"{p.StepsPerEpoch} steps and {p.EpochTokens} tokens per epoch; available memory {Size(p.AvailableBytes)} ({MachineMemory.AvailableSource})");
        string[] header = ["method", "trainable", "weights", "grads", "optimizer", "activations", "logits", "total (est.)", "fits", "peak (measured)", "s/step", "epoch"];
        var rows = p.Methods.Select(m => new[]
        {
            m.Method, Count(m.Estimate.TrainableParameters), Size(m.Estimate.WeightBytes), Size(m.Estimate.GradientBytes), Size(m.Estimate.OptimizerBytes),
            Size(m.Estimate.ActivationBytes), Size(m.Estimate.LogitsBytes), Size(m.Estimate.TotalBytes),
            m.Fits ? "yes" : m.BatchSizeThatFits is { } b ? $"no (batch {b} fits)" : "no",
            m.Measured?.PeakBytesAboveStart is { } peak ? Size(peak) : "-",
            m.Measured is { } c ? c.SecondsPerStep.ToString("F3", CultureInfo.InvariantCulture) : "-",
            m.EpochSeconds is { } e ? Duration(e) : m.Offered ? "-" : "not offered",
        }).ToList();
        text.Append(Table(header, rows));
        text.AppendLine();
        text.Append("estimates: float32 weights (NF4 projections under QLoRA; classifiers also hold the pretrained copy while training), one gradient and two AdamW moments per trainable " +
                    "parameter, activations at the batch and the longest example; measured: peak RSS added by the calibration steps on this machine.");
        return text.ToString();
    }

    public static string FormatComparison(IReadOnlyList<RunComparison> runs)
    {
        string[] header = ["run", "task", "train time", "peak memory", "saved size", "metric", "tuned", "baseline", "gain"];
        var rows = runs.Select(r => new[]
        {
            r.Run, r.Task, r.TrainSeconds is { } s ? Duration(s) : "-", r.PeakMemoryBytes is { } m ? Size(m) : "-", Size(r.SavedBytes), r.Metric,
            Number(r.Tuned), r.Baseline is null ? "-" : $"{Number(r.Baseline)} ({r.BaselineName})",
            r.Tuned is { } t && r.Baseline is { } b ? (t - b).ToString("+0.0000;-0.0000", CultureInfo.InvariantCulture) : "-",
        }).ToList();
        return Table(header, rows).TrimEnd();
    }

    private static string Table(string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        void Line(string[] cells) => text.AppendLine(string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());
        Line(header);
        Line(widths.Select(w => new string('-', w)).ToArray());
        foreach (var r in rows) Line(r);
        return text.ToString();
    }

    private static string Number(double? v) => v is { } x ? x.ToString("F4", CultureInfo.InvariantCulture) : "-";

    public static string Size(double bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (1L << 30):F2} GiB",
        >= 1 << 20 => $"{bytes / (1 << 20):F1} MiB",
        >= 1 << 10 => $"{bytes / (1 << 10):F1} KiB",
        _ => $"{bytes:F0} B",
    };

    private static string Count(double n) => n switch
    {
        >= 1e9 => $"{n / 1e9:F2}B",
        >= 1e6 => $"{n / 1e6:F2}M",
        >= 1e3 => $"{n / 1e3:F1}K",
        _ => $"{n:F0}",
    };

    private static string Duration(double seconds) => seconds >= 3600 ? $"{seconds / 3600:F1} h" : seconds >= 60 ? $"{seconds / 60:F1} min" : $"{seconds:F1} s";
}
