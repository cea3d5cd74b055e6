using System.Text;
using System.Text.Json;
using FineTune.MLNet.Preflight;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>A <see cref="PreflightReport"/> as terminal text: errors, warnings, then the facts (histograms drawn, the rendered example as is).</summary>
internal static class PreflightText
{
    public static string Format(PreflightReport report)
    {
        var text = new StringBuilder();
        text.AppendLine($"preflight {report.Task}: {report.Errors.Count} error(s), {report.Warnings.Count} warning(s)");
        foreach (var e in report.Errors) text.AppendLine($"error: {e}");
        foreach (var w in report.Warnings) text.AppendLine($"warning: {w}");
        int maxLength = report.Facts.TryGetValue("max_length", out var m) && m is not null ? m.GetValue<int>() : int.MaxValue;
        foreach (var (name, value) in report.Facts)
        {
            if (name.EndsWith("length_histogram", StringComparison.Ordinal) && value is not null)
            {
                var bins = value.Deserialize<List<LengthBin>>()!;
                text.AppendLine($"{name} (tokens):");
                text.AppendLine(LengthHistogram.Draw(bins, maxLength));
            }
            else if (name.StartsWith("rendered_example", StringComparison.Ordinal) && value is not null)
            {
                text.AppendLine($"{name} (supervised tokens between {SupervisedSpans.Open} {SupervisedSpans.Close}):");
                text.AppendLine(value.GetValue<string>());
            }
            else
            {
                text.AppendLine($"{name}: {value?.ToJsonString() ?? "null"}");
            }
        }
        return text.ToString().TrimEnd();
    }
}
