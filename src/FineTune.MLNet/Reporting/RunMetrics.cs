using System.Globalization;
using System.Text.Json;

namespace FineTune.MLNet.Reporting;

/// <summary>Read access to a run's <c>metrics.json</c>: numbers (a round-trip <c>"NaN"</c> string included), texts, lists of records.</summary>
public sealed class RunMetrics(JsonElement root)
{
    /// <summary>The JSON object.</summary>
    public JsonElement Root { get; } = root;

    /// <summary>The number under <paramref name="name"/>, or null when absent or not a number.</summary>
    public double? Number(string name) => Root.TryGetProperty(name, out var v) ? NumberOf(v) : null;

    /// <summary>The text under <paramref name="name"/>, or null.</summary>
    public string? Text(string name) => Root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>True when <paramref name="name"/> is present.</summary>
    public bool Has(string name) => Root.TryGetProperty(name, out _);

    /// <summary>The objects of the array under <paramref name="name"/> (empty when absent).</summary>
    public IReadOnlyList<JsonElement> Records(string name) =>
        Root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).ToList() : [];

    /// <summary>The strings of the array under <paramref name="name"/> (empty when absent).</summary>
    public IReadOnlyList<string> Texts(string name) =>
        Root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => e.ToString()).ToList() : [];

    /// <summary>A JSON number, or a string holding one ("NaN", "Infinity" as System.Text.Json writes them round-trip).</summary>
    public static double? NumberOf(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetDouble(),
        JsonValueKind.String when double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    /// <summary>The number under <paramref name="name"/> of a record, or null.</summary>
    public static double? NumberOf(JsonElement record, string name) => record.TryGetProperty(name, out var v) ? NumberOf(v) : null;
}
