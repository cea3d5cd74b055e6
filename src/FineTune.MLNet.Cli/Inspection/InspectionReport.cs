using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>
/// What <c>finetune inspect</c> found: the kind of thing, its path, and ordered fields whose values are numbers,
/// strings, booleans, lists of strings, or nested field lists (<see cref="Section"/>, one per row of a sub-table).
/// Printed as a two-column table, or as JSON with <c>--json</c>.
/// </summary>
internal sealed class InspectionReport(string kind, string path)
{
    private readonly List<KeyValuePair<string, object?>> _fields = [];

    public string Kind { get; } = kind;

    public string Path { get; } = path;

    public IReadOnlyList<KeyValuePair<string, object?>> Fields => _fields;

    /// <summary>Adds a field (null values are left out, so absent config fields do not print as empty).</summary>
    public InspectionReport Add(string key, object? value)
    {
        if (value is not null) _fields.Add(new(key, value));
        return this;
    }

    /// <summary>A nested group of fields: one row of a sub-table (an ONNX input, a dtype, a metric).</summary>
    public sealed class Section
    {
        public List<KeyValuePair<string, object?>> Fields { get; } = [];

        public Section Add(string key, object? value)
        {
            if (value is not null) Fields.Add(new(key, value));
            return this;
        }
    }

    public string ToJson()
    {
        var root = new Dictionary<string, object?> { ["kind"] = Kind, ["path"] = Path };
        foreach (var (key, value) in _fields) root[key] = Plain(value);
        return JsonSerializer.Serialize(root, new JsonSerializerOptions { WriteIndented = true });
    }

    public string ToTable()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Kind}: {Path}\n");
        var width = Math.Max(12, _fields.Count == 0 ? 0 : _fields.Max(f => f.Key.Length)) + 2;
        foreach (var (key, value) in _fields)
        {
            switch (value)
            {
                case IEnumerable<Section> rows:
                    sb.Append(CultureInfo.InvariantCulture, $"{key}:\n");
                    foreach (var row in rows) sb.Append("  ").Append(string.Join("  ", row.Fields.Select(f => Format(f.Value, f.Key)))).Append('\n');
                    break;
                case Section section:
                    sb.Append(CultureInfo.InvariantCulture, $"{key}:\n");
                    var inner = section.Fields.Count == 0 ? 0 : section.Fields.Max(f => f.Key.Length) + 2;
                    foreach (var (k, v) in section.Fields) sb.Append("  ").Append(k.PadRight(inner)).Append(Format(v, null)).Append('\n');
                    break;
                default:
                    sb.Append(key.PadRight(width)).Append(Format(value, null)).Append('\n');
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A value for the table; inside a sub-table row, a field after the first is written <c>key value</c>.</summary>
    private static string Format(object? value, string? rowKey)
    {
        var text = value switch
        {
            null => "",
            long or int => string.Format(CultureInfo.InvariantCulture, "{0:N0}", value),
            double d => d.ToString("G6", CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            IEnumerable<string> list => string.Join(", ", list),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
        };
        return rowKey is null or "name" ? text : $"{rowKey} {text}";
    }

    private static object? Plain(object? value) => value switch
    {
        Section s => s.Fields.ToDictionary(f => f.Key, f => Plain(f.Value)),
        IEnumerable<Section> rows => rows.Select(r => Plain(r)).ToList(),
        _ => value,
    };
}
