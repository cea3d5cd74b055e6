using System.Text.Json;
using static FineTune.MLNet.Reporting.ReportFormat;

namespace FineTune.MLNet.Reporting;

/// <summary>The checks run on the data before training (<c>preflight.json</c>): errors, warnings, the rendered example, the length histogram, the measured facts.</summary>
public static class PreflightSection
{
    /// <summary>The section, or null without a preflight.</summary>
    public static ReportSection? Build(JsonElement? preflight)
    {
        if (preflight is not { ValueKind: JsonValueKind.Object } p) return null;
        var blocks = new List<ReportBlock> { new ReportParagraph("The checks run on the data before training (preflight.json). Errors stop a run before any model is loaded; warnings are worth a look.") };
        foreach (var (key, label) in new[] { ("errors", "Errors"), ("warnings", "Warnings") })
        {
            var items = p.TryGetProperty(key, out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().Select(e => e.ToString()).ToList() : [];
            blocks.Add(items.Count == 0 ? new ReportParagraph($"{label}: none.")
                : new ReportTable([$"{label.ToLowerInvariant()} ({items.Count})"], items.Select(i => (IReadOnlyList<string>)[i]).ToList()));
        }
        if (!p.TryGetProperty("facts", out var facts) || facts.ValueKind != JsonValueKind.Object) return new ReportSection("Preflight", blocks);
        var scalars = new List<IReadOnlyList<string>>();
        foreach (var fact in facts.EnumerateObject())
        {
            if (fact.Name.StartsWith("rendered_example", StringComparison.Ordinal) && fact.Value.ValueKind == JsonValueKind.String)
            {
                blocks.Add(new ReportParagraph("One training example as the model sees it; the supervised tokens (those the loss is computed on) are marked:"));
                blocks.Add(new ReportCode(fact.Value.GetString()!));
            }
            else if (fact.Name.EndsWith("_length_histogram", StringComparison.Ordinal) && Histogram(fact.Value) is { Count: > 0 } bins)
            {
                var set = fact.Name[..^"_length_histogram".Length];
                blocks.Add(new ReportFigure($"{set}-length-histogram.png", $"Token lengths of the {set} set", ReportCharts.Bars($"Token lengths ({set} set)", "texts",
                    bins.Select(b => b.Label).ToList(), [new BarGroup("texts", bins.Select(b => b.Count).ToList())], "F0")));
            }
            else
            {
                scalars.AddRange(ConfigTable.Rows(facts.GetProperty(fact.Name)).Select(r => (IReadOnlyList<string>)[r[0] == "(value)" ? fact.Name : fact.Name + "." + r[0], r[1]]));
            }
        }
        if (scalars.Count > 0) blocks.Add(new ReportTable(["fact", "value"], scalars));
        return new ReportSection("Preflight", blocks);
    }

    /// <summary>Bins written by <c>LengthHistogram</c>: <c>[{"From", "To", "Count"}]</c>.</summary>
    private static List<(string Label, double Count)> Histogram(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array) return [];
        var bins = new List<(string, double)>();
        foreach (var bin in value.EnumerateArray())
        {
            if (RunMetrics.NumberOf(bin, "From") is not { } from || RunMetrics.NumberOf(bin, "To") is not { } to || RunMetrics.NumberOf(bin, "Count") is not { } count) return [];
            bins.Add(($"{Number(from, "F0")}-{Number(to, "F0")}", count));
        }
        return bins;
    }
}
