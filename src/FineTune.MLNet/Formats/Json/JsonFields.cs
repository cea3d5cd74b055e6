using System.Text.Json;

namespace FineTune.MLNet.Formats.Json;

/// <summary>
/// Typed, checked access to the fields of a JSON document (Hugging Face <c>config.json</c>, <c>tokenizer.json</c>,
/// <c>tokenizer_config.json</c>, ...). Every error is an <see cref="InvalidDataException"/> that names the source (the
/// file) and the field's JSON path (<c>rope_scaling.factor</c>, <c>model.merges[2]</c>), the expected kind and what was
/// found. Optional getters return null for an absent or JSON-null field; <c>Required*</c> getters throw for it.
/// </summary>
/// <param name="source">How errors name the document, e.g. <c>Config file '/m/config.json'</c> or <c>tokenizer.json</c>.</param>
internal sealed class JsonFields(string source)
{
    /// <summary>How errors name the document.</summary>
    public string Source => source;

    /// <summary>An error about the field at <paramref name="at"/>: <c>{source}: field '{at}' {problem}</c>.</summary>
    public InvalidDataException Error(string at, string problem) => new($"{source}: field '{at}' {problem}");

    /// <summary>A required field is absent.</summary>
    public InvalidDataException Missing(string at, string expected) => new($"{source}: required field '{at}' is missing (expected {expected}).");

    /// <summary>A field holds the wrong kind of value.</summary>
    public InvalidDataException Mistyped(string at, string expected, JsonElement actual) =>
        Error(at, $"must be {expected}, got {actual.ValueKind} {Truncate(actual.GetRawText())}.");

    /// <summary>The field, or null when it is absent or JSON null.</summary>
    public static JsonElement? Get(JsonElement parent, string field) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>True when the field is present (JSON null included).</summary>
    public static bool Has(JsonElement parent, string field) => parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(field, out _);

    public string? String(JsonElement parent, string field, string? at = null) => Get(parent, field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        var v => throw Mistyped(at ?? field, "a string", v.Value),
    };

    public int? Int(JsonElement parent, string field, string? at = null) => Get(parent, field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out var i) => i,
        { ValueKind: JsonValueKind.Number } v when v.TryGetDouble(out var d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue => (int)d,
        var v => throw Mistyped(at ?? field, "an integer", v.Value),
    };

    public double? Double(JsonElement parent, string field, string? at = null) => Get(parent, field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v => v.GetDouble(),
        var v => throw Mistyped(at ?? field, "a number", v.Value),
    };

    public bool? Bool(JsonElement parent, string field, string? at = null) => Get(parent, field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        var v => throw Mistyped(at ?? field, "true or false", v.Value),
    };

    /// <summary>A boolean field, <paramref name="fallback"/> when absent or null.</summary>
    public bool Bool(JsonElement parent, string field, bool fallback, string? at = null) => Bool(parent, field, at) ?? fallback;

    /// <summary>An object field, or null when absent or null.</summary>
    public JsonElement? Object(JsonElement parent, string field, string? at = null) => Get(parent, field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Object } v => v,
        var v => throw Mistyped(at ?? field, "an object", v.Value),
    };

    /// <summary>An integer, a list of integers, or absent/null (an empty list).</summary>
    public IReadOnlyList<int> IntOrList(JsonElement parent, string field, string? at = null)
    {
        var value = Get(parent, field);
        if (value is not { ValueKind: JsonValueKind.Array } array) return value is null ? [] : [Int(parent, field, at)!.Value];
        var ids = new List<int>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var id)) ids.Add(id);
            else throw Mistyped(at ?? field, "an integer or a list of integers", array);
        }
        return ids;
    }

    /// <summary>A field that must be present with the JSON kind <paramref name="kind"/>.</summary>
    public JsonElement Required(JsonElement parent, string field, JsonValueKind kind, string? at = null)
    {
        var value = Get(parent, field);
        if (value is null) throw Missing(at ?? field, $"a JSON {Kind(kind)}");
        return value.Value.ValueKind == kind ? value.Value : throw Mistyped(at ?? field, $"a JSON {Kind(kind)}", value.Value);
    }

    /// <summary>An integer field that must be present.</summary>
    public int RequiredInt(JsonElement parent, string field, string? at = null) =>
        Int(parent, field, at) ?? throw Missing(at ?? field, "an integer");

    /// <summary>The <c>type</c> of a typed object (tokenizer.json's normalizers, pre-tokenizers, decoders, ...).</summary>
    public string Type(JsonElement element, string at) =>
        element.ValueKind == JsonValueKind.Object
            ? String(element, "type", at + ".type") ?? throw Missing(at + ".type", "a string")
            : throw Mistyped(at, "an object or null", element);

    /// <summary>The items of an array field that must be present; <paramref name="parentAt"/> is the parent's path.</summary>
    public IEnumerable<JsonElement> Items(JsonElement parent, string field, string parentAt) =>
        Required(parent, field, JsonValueKind.Array, $"{parentAt}.{field}").EnumerateArray();

    private static string Kind(JsonValueKind kind) => kind.ToString().ToLowerInvariant();

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
