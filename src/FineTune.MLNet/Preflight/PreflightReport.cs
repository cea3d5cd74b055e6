using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.MLNet.Formats;

namespace FineTune.MLNet.Preflight;

/// <summary>
/// What a preflight check found before training: errors (training would fail or learn nothing; each names the file, row
/// and column), warnings (training runs, but look), and facts (counts and rates by name). Written as
/// <c>preflight.json</c>: <c>{"task": ..., "errors": [...], "warnings": [...], "facts": {name: value}}</c>.
/// </summary>
public sealed class PreflightReport
{
    /// <summary>The file name the CLI writes into the run's output folder.</summary>
    public const string FileName = "preflight.json";

    private readonly List<string> _errors = [];
    private readonly List<string> _warnings = [];
    private readonly Dictionary<string, JsonNode?> _facts = new(StringComparer.Ordinal);

    /// <summary>Creates an empty report for <paramref name="task"/> (<c>classify</c>, <c>sft</c> or <c>dpo</c>).</summary>
    public PreflightReport(string task)
    {
        ArgumentException.ThrowIfNullOrEmpty(task);
        Task = task;
    }

    /// <summary>The task checked.</summary>
    public string Task { get; }

    /// <summary>Problems that stop training.</summary>
    public IReadOnlyList<string> Errors => _errors;

    /// <summary>Things to look at; training still runs.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>Measured facts by name, in the order they were added (numbers, strings, lists and maps as JSON).</summary>
    public IReadOnlyDictionary<string, JsonNode?> Facts => _facts;

    /// <summary>Whether any error was found.</summary>
    public bool HasErrors => _errors.Count > 0;

    /// <summary>Adds an error.</summary>
    public void Error(string message) => _errors.Add(message);

    /// <summary>Adds a warning.</summary>
    public void Warn(string message) => _warnings.Add(message);

    /// <summary>Sets a fact (any value <see cref="JsonSerializer"/> writes).</summary>
    public void Fact<T>(string name, T value) => _facts[name] = JsonSerializer.SerializeToNode(value);

    /// <summary>The report as indented JSON in the shape described on the class.</summary>
    public string ToJson()
    {
        var facts = new JsonObject();
        foreach (var (name, value) in _facts) facts[name] = value?.DeepClone();
        var root = new JsonObject
        {
            ["task"] = Task,
            ["errors"] = new JsonArray(_errors.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray()),
            ["warnings"] = new JsonArray(_warnings.Select(w => (JsonNode?)JsonValue.Create(w)).ToArray()),
            ["facts"] = facts,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>Writes <see cref="FileName"/> into <paramref name="folder"/> (created if missing); returns its path.</summary>
    public string WriteTo(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        AtomicFile.WriteAllText(path, ToJson());
        return path;
    }
}
