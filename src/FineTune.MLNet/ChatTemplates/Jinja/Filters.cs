using System.Globalization;
using System.Text;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>The <c>value | name(args)</c> filters of Jinja that chat templates use.</summary>
internal static class Filters
{
    public static object? Apply(string name, object? value, List<object?> args, Dictionary<string, object?> kwargs)
    {
        object? Arg(int index, string key, object? fallback = null) =>
            index < args.Count ? args[index] : kwargs.TryGetValue(key, out object? v) ? v : fallback;

        switch (name)
        {
            case "trim":
                return Methods.Strip(PyOps.ToStr(value), Arg(0, "chars") as string, true, true);
            case "length" or "count":
                return PyOps.Length(value);
            case "upper":
                return PyOps.ToStr(value).ToUpperInvariant();
            case "lower":
                return PyOps.ToStr(value).ToLowerInvariant();
            case "capitalize":
                return Methods.Capitalize(PyOps.ToStr(value));
            case "title":
                return Methods.Title(PyOps.ToStr(value));
            case "string":
                return PyOps.ToStr(value);
            case "safe":
                return value;
            case "tojson":
                return ToJson(value, Arg(0, "indent"), kwargs);
            case "default" or "d":
                bool boolean = PyOps.IsTruthy(Arg(1, "boolean", false));
                return value is Undefined || (boolean && !PyOps.IsTruthy(value)) ? Arg(0, "default_value", "") : value;
            case "first":
                return PyOps.Iterate(value) is { Count: > 0 } items ? items[0] : new Undefined("No first item, sequence was empty.");
            case "last":
                return PyOps.Iterate(value) is { Count: > 0 } all ? all[^1] : new Undefined("No last item, sequence was empty.");
            case "join":
                string separator = PyOps.ToStr(Arg(0, "d", ""));
                var parts = PyOps.Iterate(value);
                if (Arg(1, "attribute") is string joinAttribute)
                {
                    parts = parts.Select(p => Lookup.Path(p, joinAttribute)).ToList();
                }

                return PyOps.Join(separator, parts);
            case "replace":
                return Methods.Replace(
                    PyOps.ToStr(value), PyOps.ToStr(Arg(0, "old")), PyOps.ToStr(Arg(1, "new")), Arg(2, "count") is long c ? c : -1);
            case "list":
                return new List<object?>(PyOps.Iterate(value));
            case "reverse":
                return value is string rs ? new string(rs.Reverse().ToArray()) : Enumerable.Reverse(PyOps.Iterate(value)).ToList();
            case "unique":
                var unique = new List<object?>();
                foreach (object? item in PyOps.Iterate(value).Where(item => !unique.Any(u => PyOps.Equals(u, item))))
                {
                    unique.Add(item);
                }

                return unique;
            case "sort":
                return Sort(PyOps.Iterate(value), PyOps.IsTruthy(Arg(0, "reverse", false)), PyOps.IsTruthy(Arg(1, "case_sensitive", false)), Arg(2, "attribute") as string);
            case "dictsort":
                var pairs = Methods.Call(value, "items", [], []) as List<object?> ?? [];
                return Sort(pairs, PyOps.IsTruthy(Arg(2, "reverse", false)), PyOps.IsTruthy(Arg(0, "case_sensitive", false)), "0");
            case "items":
                return value is Undefined ? new List<object?>() : Methods.Call(value, "items", [], []);
            case "int":
                return ToInt(value, Arg(0, "default", 0L));
            case "float":
                return ToFloat(value, Arg(0, "default", 0.0));
            case "abs":
                return value switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), _ => throw Bad(name, value) };
            case "round":
                return Round(value, Arg(0, "precision", 0L) is long p ? (int)p : 0, Arg(1, "method", "common") as string ?? "common");
            case "min" or "max" or "sum":
                return Aggregate(name, PyOps.Iterate(value), Arg(0, "attribute") as string);
            case "indent":
                return Indent(PyOps.ToStr(value), Arg(0, "width", 4L), PyOps.IsTruthy(Arg(1, "first", false)), PyOps.IsTruthy(Arg(2, "blank", false)));
            case "wordcount":
                return (long)PyOps.ToStr(value).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            case "attr":
                return Lookup.Attribute(value, PyOps.ToStr(Arg(0, "name")));
            case "map":
                return Map(value, args, kwargs);
            case "select" or "reject":
                return SelectItems(PyOps.Iterate(value), item => item, args, name == "select");
            case "selectattr" or "rejectattr":
                if (args.Count == 0 || args[0] is not string attribute)
                {
                    throw new ChatTemplateException($"filter '{name}' needs an attribute name");
                }

                return SelectItems(PyOps.Iterate(value), item => Lookup.Path(item, attribute), args.Skip(1).ToList(), name == "selectattr");
            default:
                throw new ChatTemplateException($"no filter named '{name}'");
        }
    }

    private static string ToJson(object? value, object? indent, Dictionary<string, object?> kwargs)
    {
        string? indentText = indent switch
        {
            null => null,
            long n => new string(' ', (int)n),
            string s => s,
            _ => throw new ChatTemplateException($"tojson: indent must be an int or string, not {PyOps.TypeName(indent)}"),
        };
        string? itemSeparator = null, keySeparator = null;
        if (kwargs.TryGetValue("separators", out object? separators) && separators is List<object?> { Count: 2 } pair)
        {
            itemSeparator = PyOps.ToStr(pair[0]);
            keySeparator = PyOps.ToStr(pair[1]);
        }

        bool sortKeys = kwargs.TryGetValue("sort_keys", out object? sort) && PyOps.IsTruthy(sort);
        bool ensureAscii = kwargs.TryGetValue("ensure_ascii", out object? ascii) && PyOps.IsTruthy(ascii);
        return PyJson.Dumps(value, indentText, itemSeparator, keySeparator, sortKeys, ensureAscii);
    }

    private static List<object?> Map(object? value, List<object?> args, Dictionary<string, object?> kwargs)
    {
        var items = PyOps.Iterate(value);
        if (kwargs.TryGetValue("attribute", out object? attribute) && attribute is string path)
        {
            bool hasDefault = kwargs.TryGetValue("default", out object? fallback);
            return items.Select(item => Lookup.Path(item, path) is Undefined && hasDefault ? fallback : Lookup.Path(item, path)).ToList();
        }

        if (args.Count == 0 || args[0] is not string filter)
        {
            throw new ChatTemplateException("filter 'map' needs a filter name or attribute=...");
        }

        var rest = args.Skip(1).ToList();
        return items.Select(item => Apply(filter, item, rest, [])).ToList();
    }

    private static List<object?> SelectItems(List<object?> items, Func<object?, object?> project, List<object?> args, bool keep)
    {
        Func<object?, bool> test = args.Count == 0
            ? PyOps.IsTruthy
            : v => JinjaTests.Apply(PyOps.ToStr(args[0]), v, args.Skip(1).ToList());
        return items.Where(item => test(project(item)) == keep).ToList();
    }

    private static List<object?> Sort(List<object?> items, bool reverse, bool caseSensitive, string? attribute)
    {
        object? Key(object? item)
        {
            object? key = attribute is null ? item : Lookup.Path(item, attribute);
            return !caseSensitive && key is string s ? s.ToLowerInvariant() : key;
        }

        var sorted = items.Select((item, i) => (item, i)).ToList();
        sorted.Sort((a, b) =>
        {
            int c = PyOps.Compare(Key(a.item), Key(b.item), "<");
            return c != 0 ? (reverse ? -c : c) : a.i.CompareTo(b.i);
        });
        return sorted.Select(x => x.item).ToList();
    }

    private static object? Aggregate(string name, List<object?> items, string? attribute)
    {
        var values = attribute is null ? items : items.Select(i => Lookup.Path(i, attribute)).ToList();
        if (name == "sum")
        {
            return values.Aggregate((object?)0L, (acc, v) => PyOps.Binary("+", acc, v));
        }

        if (values.Count == 0)
        {
            return new Undefined($"No aggregated item, sequence was empty.");
        }

        return values.Aggregate((a, b) => (PyOps.Compare(b, a, "<") < 0) == (name == "min") ? b : a);
    }

    private static object ToInt(object? value, object? fallback) => value switch
    {
        long l => l,
        bool b => b ? 1L : 0L,
        double d => (long)Math.Truncate(d),
        string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed) => parsed,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => (long)Math.Truncate(parsed),
        _ => fallback ?? 0L,
    };

    private static object ToFloat(object? value, object? fallback) => value switch
    {
        long l => (double)l,
        bool b => b ? 1.0 : 0.0,
        double d => d,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => parsed,
        _ => fallback ?? 0.0,
    };

    private static double Round(object? value, int precision, string method)
    {
        double d = value switch { long l => l, double x => x, bool b => b ? 1 : 0, _ => throw Bad("round", value) };
        double factor = Math.Pow(10, precision);
        return method switch
        {
            "common" => Math.Round(d, precision, MidpointRounding.AwayFromZero),
            "floor" => Math.Floor(d * factor) / factor,
            "ceil" => Math.Ceiling(d * factor) / factor,
            _ => throw new ChatTemplateException("round: method must be 'common', 'ceil' or 'floor'"),
        };
    }

    private static string Indent(string s, object? width, bool first, bool blank)
    {
        string[] lines = s.Split('\n');
        long padChars = width is string w0 ? w0.Length : width is long n0 ? Math.Max(0, n0) : 4;
        RenderBudget.Current.CheckChars((double)padChars * lines.Length + s.Length, "indent()");
        string pad = width is string w ? w : new string(' ', (int)padChars);
        var sb = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0)
            {
                sb.Append('\n');
            }

            bool indentLine = (i > 0 || first) && (blank || lines[i].Trim().Length > 0);
            sb.Append(indentLine ? pad : "").Append(lines[i]);
        }

        return sb.ToString();
    }

    private static ChatTemplateException Bad(string filter, object? value) =>
        value is Undefined u ? new ChatTemplateException(u.Hint) : new ChatTemplateException($"filter '{filter}' cannot take a {PyOps.TypeName(value)}");
}
