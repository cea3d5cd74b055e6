using System.Globalization;
using System.Text;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// Python's <c>json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)</c>, which
/// transformers installs as the <c>tojson</c> filter (Jinja's own <c>tojson</c> would HTML-escape).
/// Default separators are <c>", "</c> and <c>": "</c>, or <c>","</c> and <c>": "</c> when indenting.
/// </summary>
internal static class PyJson
{
    public static string Dumps(object? value, string? indent, string? itemSeparator, string? keySeparator, bool sortKeys, bool ensureAscii)
    {
        itemSeparator ??= indent is null ? ", " : ",";
        keySeparator ??= ": ";
        var sb = new StringBuilder();
        Write(sb, value, indent, itemSeparator, keySeparator, sortKeys, ensureAscii, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, string? indent, string itemSep, string keySep, bool sortKeys, bool ensureAscii, int level)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                return;
            case bool b:
                sb.Append(b ? "true" : "false");
                return;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                return;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyOps.FormatFloat(d));
                return;
            case string s:
                WriteString(sb, s, ensureAscii);
                return;
            case List<object?> list:
                WriteContainer(sb, '[', ']', list.Count, indent, itemSep, level, i =>
                    Write(sb, list[i], indent, itemSep, keySep, sortKeys, ensureAscii, level + 1));
                return;
            case OrderedDictionary<string, object?> dict:
                var pairs = sortKeys ? dict.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList() : dict.ToList();
                WriteContainer(sb, '{', '}', pairs.Count, indent, itemSep, level, i =>
                {
                    WriteString(sb, pairs[i].Key, ensureAscii);
                    sb.Append(keySep);
                    Write(sb, pairs[i].Value, indent, itemSep, keySep, sortKeys, ensureAscii, level + 1);
                });
                return;
            case Undefined u:
                throw new ChatTemplateException($"tojson: Object of type Undefined is not JSON serializable ({u.Hint})");
            default:
                throw new ChatTemplateException($"tojson: Object of type {PyOps.TypeName(value)} is not JSON serializable");
        }
    }

    private static void WriteContainer(StringBuilder sb, char open, char close, int count, string? indent, string itemSep, int level, Action<int> writeItem)
    {
        var budget = RenderBudget.Current;
        budget.CheckDepth(level + 1);
        budget.Tick();
        sb.Append(open);
        if (count == 0)
        {
            sb.Append(close);
            return;
        }

        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(itemSep);
            }

            if (indent is not null)
            {
                budget.CheckChars(sb.Length + (double)indent.Length * (level + 1), "tojson");
                sb.Append('\n').Append(string.Concat(Enumerable.Repeat(indent, level + 1)));
            }

            writeItem(i);
            budget.CheckChars(sb.Length, "tojson");
        }

        if (indent is not null)
        {
            sb.Append('\n').Append(string.Concat(Enumerable.Repeat(indent, level)));
        }

        sb.Append(close);
    }

    private static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7f))
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
