using System.Text.Json;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>Optional typed fields of an already parsed JSON object: a field of another type reads as absent (inspection reports, never fails on them).</summary>
internal static class JsonValues
{
    public static JsonElement? Field(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) ? v : null;

    public static string? Text(JsonElement o, string name) => Field(o, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    public static long? Int(JsonElement o, string name) => Field(o, name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt64(out var n) ? n : null;

    public static bool? Bool(JsonElement o, string name) => Field(o, name) is { ValueKind: JsonValueKind.True or JsonValueKind.False } v ? v.GetBoolean() : null;

    /// <summary>A scalar as a report value (long for integers, double, string, bool); objects and arrays give null.</summary>
    public static object? Scalar(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.TryGetInt64(out var n) ? n : v.GetDouble(),
        JsonValueKind.String => v.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
