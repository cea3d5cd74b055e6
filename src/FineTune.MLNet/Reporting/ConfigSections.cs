using System.Text.Json;
using static FineTune.MLNet.Reporting.ReportFormat;

namespace FineTune.MLNet.Reporting;

/// <summary>The report's reference sections: the resolved configuration (<c>config.json</c>) and every scalar of <c>metrics.json</c>.</summary>
public static class ConfigSections
{
    /// <summary>The options, the model fingerprint and the command line, or null without a config.</summary>
    public static ReportSection? Config(RunConfig? config)
    {
        if (config is null) return null;
        var blocks = new List<ReportBlock>
        {
            new ReportParagraph("Every option of the run after defaults were applied (config.json, options). For a CLI run the file is also a --config file: "
                                + "'finetune COMMAND --config config.json' repeats the run."),
        };
        if (config.Options is { } options) blocks.Add(new ReportTable(["option", "value"], ConfigTable.Rows(options)));
        if (config.Model is { } model)
        {
            blocks.Add(new ReportParagraph("The model the run started from, with the SHA-256 of its files:"));
            blocks.Add(new ReportTable(["model", "value"], ConfigTable.Rows(model)));
        }
        if (config.Arguments is { } arguments && config.Command is { } command)
        {
            blocks.Add(new ReportParagraph($"The command line: finetune {command} with these flags (resolved values):"));
            blocks.Add(new ReportTable(["flag", "value"], ConfigTable.Rows(arguments).Select(r => (IReadOnlyList<string>)["--" + r[0], r[1]]).ToList()));
        }
        return new ReportSection("Resolved configuration", blocks);
    }

    /// <summary>Every number of <c>metrics.json</c>, or null when it has none.</summary>
    public static ReportSection? AllMetrics(RunMetrics m)
    {
        var rows = m.Root.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number)
            .Select(p => (IReadOnlyList<string>)[p.Name, Number(p.Value.GetDouble(), "G6")]).ToList();
        return rows.Count == 0 ? null : new ReportSection("All scalar metrics", [new ReportParagraph("Every number of metrics.json, as written."), new ReportTable(["metric", "value"], rows)]);
    }
}
