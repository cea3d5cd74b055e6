using System.Text.Json;

namespace FineTune.MLNet.Reporting;

/// <summary>Any JSON object as key/value rows: nested objects become dotted keys, arrays of scalars one comma-separated value.</summary>
public static class ConfigTable
{
    /// <summary>Most rows a table shows (a config is tens of keys; more is cut with a note).</summary>
    public const int MaxRows = 400;

    /// <summary>The flattened rows of <paramref name="root"/>, in file order.</summary>
    public static List<IReadOnlyList<string>> Rows(JsonElement root)
    {
        var rows = new List<IReadOnlyList<string>>();
        Add(rows, "", root);
        if (rows.Count > MaxRows) rows = [.. rows.Take(MaxRows), ["…", $"{rows.Count - MaxRows} more keys (see the file)"]];
        return rows;
    }

    private static void Add(List<IReadOnlyList<string>> rows, string key, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var any = false;
                foreach (var p in value.EnumerateObject())
                {
                    any = true;
                    Add(rows, key.Length == 0 ? p.Name : key + "." + p.Name, p.Value);
                }
                if (!any && key.Length > 0) rows.Add([key, "{}"]);
                break;
            case JsonValueKind.Array when value.EnumerateArray().All(e => e.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array)):
                rows.Add([key, string.Join(", ", value.EnumerateArray().Select(Scalar))]);
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var e in value.EnumerateArray()) Add(rows, $"{key}[{i++}]", e);
                break;
            default:
                rows.Add([key.Length == 0 ? "(value)" : key, Scalar(value)]);
                break;
        }
    }

    private static string Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString() ?? "",
        JsonValueKind.Null => "null",
        _ => e.GetRawText(),
    };
}
