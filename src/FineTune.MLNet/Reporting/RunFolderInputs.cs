using System.Text.Json;
using FineTune.MLNet.Formats.Json;

namespace FineTune.MLNet.Reporting;

/// <summary>
/// What a report is built from, read from a run folder (<c>TrainerOptions.RunFolder</c>, the CLI's <c>--output</c>):
/// <c>config.json</c> (the resolved options, model and data fingerprints), <c>metrics.jsonl</c> (every step and
/// validation pass), and when present <c>metrics.json</c> (the CLI's final evaluation: test scores against the
/// zero-shot or base model) and <c>preflight.json</c> (the checks before training). At least one of the first three must exist.
/// </summary>
public sealed class RunFolderInputs : IDisposable
{
    private readonly List<JsonDocument> _documents = [];

    private RunFolderInputs(string directory) => Directory = directory;

    /// <summary>The run folder.</summary>
    public string Directory { get; }

    /// <summary>The final metrics of <c>metrics.json</c> (an empty object when the folder has none, as for API runs).</summary>
    public RunMetrics Metrics { get; private set; } = null!;

    /// <summary>Whether the folder has a <c>metrics.json</c>.</summary>
    public bool HasFinalMetrics { get; private set; }

    /// <summary>The per-step log of <c>metrics.jsonl</c> (empty when the folder has none).</summary>
    public RunMetricsLog Log { get; private set; } = RunMetricsLog.Empty;

    /// <summary>Whether the folder has a <c>metrics.jsonl</c>.</summary>
    public bool HasLog { get; private set; }

    /// <summary>The run's <c>config.json</c>, or null when the folder has none.</summary>
    public RunConfig? Config { get; private set; }

    /// <summary>The preflight result, or null when the folder has no <c>preflight.json</c>.</summary>
    public JsonElement? Preflight { get; private set; }

    /// <summary>
    /// Reads the files of <paramref name="directory"/>. A missing folder, a folder with none of <c>config.json</c>,
    /// <c>metrics.jsonl</c>, <c>metrics.json</c>, or a file that is not what it should be names the path.
    /// </summary>
    public static RunFolderInputs Read(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"Run folder '{directory}' does not exist.");
        string In(string name) => Path.Combine(directory, name);
        if (!File.Exists(In("config.json")) && !File.Exists(In(RunMetricsLog.FileName)) && !File.Exists(In("metrics.json")))
        {
            throw new FileNotFoundException($"Run folder '{directory}' has none of config.json, metrics.jsonl, metrics.json: a report needs the folder of a run "
                                            + "(the CLI's --output, or TrainerOptions.RunFolder).", In("config.json"));
        }
        var inputs = new RunFolderInputs(directory);
        try
        {
            var metrics = inputs.Parse(In("metrics.json"));
            if (metrics is { ValueKind: not JsonValueKind.Object } m) throw new InvalidDataException($"'{In("metrics.json")}' must hold a JSON object, not {m.ValueKind}.");
            inputs.HasFinalMetrics = metrics is not null;
            inputs.Metrics = new RunMetrics(metrics ?? inputs.ParseText("{}"));
            if (File.Exists(In(RunMetricsLog.FileName)))
            {
                inputs.Log = RunMetricsLog.Read(In(RunMetricsLog.FileName));
                inputs.HasLog = true;
            }
            if (inputs.Parse(In("config.json")) is { } config)
            {
                if (config.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"'{In("config.json")}' must hold a JSON object, not {config.ValueKind}.");
                inputs.Config = new RunConfig(config);
            }
            inputs.Preflight = inputs.Parse(In("preflight.json"));
            return inputs;
        }
        catch
        {
            inputs.Dispose();
            throw;
        }
    }

    private JsonElement? Parse(string path)
    {
        if (!File.Exists(path)) return null;
        var doc = JsonInput.ParseFile(path, Path.GetFileName(path), (problem, inner) => new InvalidDataException($"'{path}' {problem}.", inner), JsonInput.MaxConfigFileBytes);
        _documents.Add(doc);
        return doc.RootElement;
    }

    private JsonElement ParseText(string json)
    {
        var doc = JsonDocument.Parse(json);
        _documents.Add(doc);
        return doc.RootElement;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var doc in _documents) doc.Dispose();
        _documents.Clear();
    }
}
