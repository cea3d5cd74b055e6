using System.Text.Json;
using FineTune.MLNet.Formats.Json;
using static FineTune.MLNet.Cli.Inspection.JsonValues;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>
/// A <c>finetune classify|sft|dpo</c> output folder: the scalar metrics of <c>metrics.json</c> (lists and tables
/// counted, not printed), the logged steps of <c>metrics.jsonl</c>, the keys of a resolved <c>config.json</c>, and
/// what else the folder holds (model, adapter, report, checkpoints).
/// </summary>
internal static class RunFolderInspector
{
    public const string MetricsFile = "metrics.json";
    public const string MetricsLinesFile = "metrics.jsonl";

    public static bool IsRunFolder(string dir) =>
        File.Exists(Path.Combine(dir, MetricsFile)) || File.Exists(Path.Combine(dir, MetricsLinesFile));

    public static InspectionReport Inspect(string dir)
    {
        var report = new InspectionReport("run folder", dir);
        var metricsPath = Path.Combine(dir, MetricsFile);
        if (File.Exists(metricsPath))
        {
            using var doc = Parse(metricsPath);
            var metrics = new InspectionReport.Section();
            var lists = new List<string>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (Scalar(p.Value) is { } v) metrics.Add(p.Name, v);
                else if (p.Value.ValueKind == JsonValueKind.Array) lists.Add($"{p.Name} ({p.Value.GetArrayLength()} entries)");
                else if (p.Value.ValueKind == JsonValueKind.Object) lists.Add($"{p.Name} ({p.Value.EnumerateObject().Count()} keys)");
            }
            report.Add("metrics", metrics).Add("metric_tables", lists.Count == 0 ? null : lists);
        }
        var linesPath = Path.Combine(dir, MetricsLinesFile);
        if (File.Exists(linesPath))
        {
            var lines = File.ReadLines(linesPath).Where(l => l.Length > 0).ToList();
            report.Add("logged_lines", (long)lines.Count);
            if (lines.Count > 0)
            {
                using var last = JsonInput.Parse(System.Text.Encoding.UTF8.GetBytes(lines[^1]),
                    (problem, inner) => new InvalidDataException($"{linesPath}: the last line {problem}.", inner));
                var section = new InspectionReport.Section();
                foreach (var p in last.RootElement.EnumerateObject()) section.Add(p.Name, Scalar(p.Value));
                report.Add("last_logged", section);
            }
        }
        var configPath = Path.Combine(dir, "config.json");
        if (File.Exists(configPath))
        {
            using var config = Parse(configPath);
            report.Add("config_keys", config.RootElement.ValueKind == JsonValueKind.Object ? config.RootElement.EnumerateObject().Select(p => p.Name).ToList() : null);
        }
        var contents = Directory.EnumerateFileSystemEntries(dir).Select(e => Path.GetFileName(e) + (Directory.Exists(e) ? "/" : ""))
            .Order(StringComparer.Ordinal).ToList();
        return report.Add("contents", contents);
    }

    private static JsonDocument Parse(string path)
    {
        var doc = JsonInput.ParseFile(path, "Run file", (problem, inner) => new InvalidDataException($"Run file '{path}' {problem}.", inner), JsonInput.MaxConfigFileBytes);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new InvalidDataException($"Run file '{path}': expected a JSON object.");
        }
        return doc;
    }
}
