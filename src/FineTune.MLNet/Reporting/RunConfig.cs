using System.Text.Json;

namespace FineTune.MLNet.Reporting;

/// <summary>
/// Read access to a run folder's <c>config.json</c> as <c>Training/Runs</c> writes it: <c>library</c>,
/// <c>estimator</c>, <c>options</c>, <c>model</c> (source, bundled name, folder, SHA-256 of its files), <c>data</c> (role,
/// rows, columns, SHA-256 per set) and, for CLI runs, <c>command_line</c> (<c>command</c>, <c>arguments</c> by flag name).
/// </summary>
public sealed class RunConfig(JsonElement root)
{
    /// <summary>The JSON object.</summary>
    public JsonElement Root { get; } = root;

    /// <summary>The estimator's type name, or null.</summary>
    public string? Estimator => Text(Root, "estimator");

    /// <summary>The CLI command (<c>classify</c>, <c>sft</c>, <c>dpo</c>), or null for API runs.</summary>
    public string? Command => Object(Root, "command_line") is { } c ? Text(c, "command") : null;

    /// <summary>The library name and version ("FineTune.MLNet 1.0.0"), or null.</summary>
    public string? Library => Object(Root, "library") is { } l ? $"{Text(l, "name")} {Text(l, "version")}".Trim() : null;

    /// <summary>The resolved options object, or null.</summary>
    public JsonElement? Options => Object(Root, "options");

    /// <summary>The model fingerprint object, or null.</summary>
    public JsonElement? Model => Object(Root, "model");

    /// <summary>The CLI arguments object, or null.</summary>
    public JsonElement? Arguments => Object(Root, "command_line") is { } c ? Object(c, "arguments") : null;

    /// <summary>The data sets: role, rows, columns, SHA-256.</summary>
    public IReadOnlyList<(string Role, double? Rows, string Columns, string Sha256)> Data =>
        Root.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Array
            ? d.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Select(e => (Text(e, "role") ?? "?", RunMetrics.NumberOf(e, "rows"),
                e.TryGetProperty("columns", out var c) && c.ValueKind == JsonValueKind.Array ? string.Join(", ", c.EnumerateArray().Select(x => x.ToString())) : "",
                Text(e, "sha256") ?? "")).ToList()
            : [];

    /// <summary>A CLI argument as text (a path, a number), or null when absent or null.</summary>
    public string? Argument(string flag) => Arguments is { } a && a.TryGetProperty(flag, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
        ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText())
        : null;

    /// <summary>An option (snake_case name) as text, or null.</summary>
    public string? Option(string name) => Options is { } o && o.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
        ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText())
        : null;

    private static JsonElement? Object(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
