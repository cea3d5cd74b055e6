using System.Text.Json;
using FineTune.MLNet.Formats.Json;

namespace FineTune.MLNet.Reporting;

/// <summary>
/// What a report is built from, read from a run folder: <c>metrics.json</c> (written by classify, sft and dpo; required),
/// and when present <c>config.json</c> (the resolved options) and <c>preflight.json</c> (the checks before training).
/// </summary>
public sealed class RunFolderInputs : IDisposable
{
    private readonly List<JsonDocument> _documents = [];

    private RunFolderInputs(string directory) => Directory = directory;

    /// <summary>The run folder.</summary>
    public string Directory { get; }

    /// <summary>The run's metrics.</summary>
    public RunMetrics Metrics { get; private set; } = null!;

    /// <summary>The resolved config, or null when the folder has no <c>config.json</c>.</summary>
    public JsonElement? Config { get; private set; }

    /// <summary>The preflight result, or null when the folder has no <c>preflight.json</c>.</summary>
    public JsonElement? Preflight { get; private set; }

    /// <summary>Reads the files of <paramref name="directory"/>; a missing folder or <c>metrics.json</c>, or a file that is not JSON, names the path.</summary>
    public static RunFolderInputs Read(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"Run folder '{directory}' does not exist.");
        var metricsPath = Path.Combine(directory, "metrics.json");
        if (!File.Exists(metricsPath))
            throw new FileNotFoundException($"Run folder '{directory}' has no metrics.json: a report needs the folder a classify, sft or dpo run wrote (--output).", metricsPath);
        var inputs = new RunFolderInputs(directory);
        try
        {
            var metrics = inputs.Parse(metricsPath)!.Value;
            if (metrics.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"'{metricsPath}' must hold a JSON object, not {metrics.ValueKind}.");
            inputs.Metrics = new RunMetrics(metrics);
            inputs.Config = inputs.Parse(Path.Combine(directory, "config.json"));
            inputs.Preflight = inputs.Parse(Path.Combine(directory, "preflight.json"));
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

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var doc in _documents) doc.Dispose();
        _documents.Clear();
    }
}
