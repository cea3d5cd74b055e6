using System.Globalization;
using System.Text;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// The Python methods templates call on values: <c>str.strip/startswith/split/...</c>, <c>dict.items/get/...</c>.
/// Mutating list and dict methods are refused, as transformers' ImmutableSandboxedEnvironment does.
/// </summary>
internal static class Methods
{
    private static readonly HashSet<string> MutatingMethods =
        ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault", "popitem"];

    public static object? Call(object? target, string name, List<object?> args, Dictionary<string, object?> kwargs) => target switch
    {
        string s => CallString(s, name, args, kwargs),
        OrderedDictionary<string, object?> dict => CallDict(dict, name, args),
        List<object?> list => CallList(list, name, args),
        _ => throw new ChatTemplateException($"'{PyOps.TypeName(target)}' object has no method '{name}'"),
    };

    private static object? CallString(string s, string name, List<object?> args, Dictionary<string, object?> kwargs)
    {
        switch (name)
        {
            case "strip": return Strip(s, OptionalChars(args, name), true, true);
            case "lstrip": return Strip(s, OptionalChars(args, name), true, false);
            case "rstrip": return Strip(s, OptionalChars(args, name), false, true);
            case "upper": return s.ToUpperInvariant();
            case "lower": return s.ToLowerInvariant();
            case "title": return Title(s);
            case "capitalize": return Capitalize(s);
            case "startswith": return Affixes(args, name).Any(p => s.StartsWith(p, StringComparison.Ordinal));
            case "endswith": return Affixes(args, name).Any(p => s.EndsWith(p, StringComparison.Ordinal));
            case "split":
                return Split(s, Arg(args, kwargs, 0, "sep") is string sep ? sep : null, Arg(args, kwargs, 1, "maxsplit") is long max ? (int)max : -1);
            case "rsplit" when args.Count == 0:
                return Split(s, null, -1);
            case "splitlines":
                return SplitLines(s);
            case "replace":
                {
                    string old = RequireString(Arg(args, kwargs, 0, "old"), "replace", "old");
                    string replacement = RequireString(Arg(args, kwargs, 1, "new"), "replace", "new");
                    long count = Arg(args, kwargs, 2, "count") is long c ? c : -1;
                    return Replace(s, old, replacement, count);
                }

            case "find": return (long)s.IndexOf(RequireString(Arg(args, kwargs, 0, "sub"), "find", "sub"), StringComparison.Ordinal);
            case "count": return (long)CountOccurrences(s, RequireString(Arg(args, kwargs, 0, "sub"), "count", "sub"));
            case "join": return PyOps.Join(s, PyOps.Iterate(Arg(args, kwargs, 0, "iterable")));
            case "isdigit": return s.Length > 0 && s.All(char.IsDigit);
            case "isspace": return s.Length > 0 && s.All(char.IsWhiteSpace);
            case "isalpha": return s.Length > 0 && s.All(char.IsLetter);
            case "format": return Format(s, args, kwargs);
            default:
                throw new ChatTemplateException($"'str' object has no method '{name}' (supported: strip, lstrip, rstrip, upper, lower, title, capitalize, startswith, endswith, split, splitlines, replace, find, count, join, format)");
        }
    }

    private static object? CallDict(OrderedDictionary<string, object?> dict, string name, List<object?> args)
    {
        switch (name)
        {
            case "items": return dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList();
            case "keys": return dict.Keys.Cast<object?>().ToList();
            case "values": return dict.Values.ToList();
            case "get":
                if (args.Count == 0)
                {
                    throw new ChatTemplateException("dict.get() needs a key");
                }

                return args[0] is string key && dict.TryGetValue(key, out object? value) ? value : (args.Count > 1 ? args[1] : null);
            case "copy": return new OrderedDictionary<string, object?>(dict);
            default:
                if (MutatingMethods.Contains(name))
                {
                    throw new ChatTemplateException($"access to attribute '{name}' of 'dict' object is unsafe: templates cannot modify values");
                }

                throw new ChatTemplateException($"'dict' object has no method '{name}' (supported: items, keys, values, get, copy)");
        }
    }

    private static object? CallList(List<object?> list, string name, List<object?> args)
    {
        switch (name)
        {
            case "index":
                int i = list.FindIndex(x => PyOps.Equals(x, args.FirstOrDefault()));
                return i >= 0 ? (long)i : throw new ChatTemplateException($"{PyOps.Repr(args.FirstOrDefault())} is not in list");
            case "count": return (long)list.Count(x => PyOps.Equals(x, args.FirstOrDefault()));
            case "copy": return new List<object?>(list);
            default:
                if (MutatingMethods.Contains(name))
                {
                    throw new ChatTemplateException($"access to attribute '{name}' of 'list' object is unsafe: templates cannot modify values");
                }

                throw new ChatTemplateException($"'list' object has no method '{name}' (supported: index, count, copy)");
        }
    }

    public static string Strip(string s, string? chars, bool start, bool end)
    {
        Func<char, bool> strip = chars is null ? char.IsWhiteSpace : chars.Contains;
        int from = 0, to = s.Length;
        while (start && from < to && strip(s[from]))
        {
            from++;
        }

        while (end && to > from && strip(s[to - 1]))
        {
            to--;
        }

        return s[from..to];
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>Python <c>str.title()</c>: a letter after a non-letter is upper-cased, other letters lower-cased.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousIsLetter = false;
        foreach (char c in s)
        {
            sb.Append(previousIsLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousIsLetter = char.IsLetter(c);
        }

        return sb.ToString();
    }

    public static string Replace(string s, string old, string replacement, long count)
    {
        if (replacement.Length > old.Length)
        {
            double hits = old.Length == 0 ? s.Length + 1 : CountOccurrences(s, old);
            if (count >= 0) hits = Math.Min(hits, count);
            RenderBudget.Current.CheckChars(s.Length + hits * (replacement.Length - old.Length), "replace()");
        }

        if (count < 0)
        {
            return old.Length == 0
                ? replacement + string.Concat(s.Select(c => c + replacement))
                : s.Replace(old, replacement, StringComparison.Ordinal);
        }

        var sb = new StringBuilder();
        int pos = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0 || old.Length == 0)
            {
                break;
            }

            sb.Append(s, pos, at - pos).Append(replacement);
            pos = at + old.Length;
        }

        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private static List<object?> Split(string s, string? sep, int maxSplit)
    {
        if (sep is null)
        {
            var words = new List<object?>();
            int i = 0;
            while (i < s.Length)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i]))
                {
                    i++;
                }

                if (i >= s.Length)
                {
                    break;
                }

                if (maxSplit >= 0 && words.Count == maxSplit)
                {
                    words.Add(s[i..].TrimEnd());
                    break;
                }

                int start = i;
                while (i < s.Length && !char.IsWhiteSpace(s[i]))
                {
                    i++;
                }

                words.Add(s[start..i]);
            }

            return words;
        }

        if (sep.Length == 0)
        {
            throw new ChatTemplateException("str.split(): empty separator");
        }

        return (maxSplit < 0 ? s.Split(sep) : s.Split(sep, maxSplit + 1)).Select(x => (object?)x).ToList();
    }

    private static List<object?> SplitLines(string s)
    {
        var lines = s.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n').Select(x => (object?)x).ToList();
        if (lines.Count > 0 && (string)lines[^1]! == "")
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    private static int CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0)
        {
            return s.Length + 1;
        }

        int count = 0;
        for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary><c>'{} and {name}'.format(...)</c>: positional <c>{}</c>/<c>{0}</c> and named fields, no format specs.</summary>
    private static string Format(string s, List<object?> args, Dictionary<string, object?> kwargs)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '{' && i + 1 < s.Length && s[i + 1] == '{')
            {
                sb.Append('{');
                i++;
            }
            else if (c == '}' && i + 1 < s.Length && s[i + 1] == '}')
            {
                sb.Append('}');
                i++;
            }
            else if (c == '{')
            {
                int close = s.IndexOf('}', i);
                if (close < 0)
                {
                    throw new ChatTemplateException("str.format(): single '{' encountered in format string");
                }

                string field = s[(i + 1)..close];
                object? value = field.Length == 0 ? ArgAt(args, auto++)
                    : int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int index) ? ArgAt(args, index)
                    : kwargs.TryGetValue(field, out object? named) ? named
                    : throw new ChatTemplateException($"str.format(): no argument named '{field}'");
                sb.Append(PyOps.ToStr(value));
                i = close;
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private static object? ArgAt(List<object?> args, int index) =>
        index < args.Count ? args[index] : throw new ChatTemplateException($"str.format(): replacement index {index} out of range");

    private static object? Arg(List<object?> args, Dictionary<string, object?> kwargs, int index, string name) =>
        index < args.Count ? args[index] : kwargs.TryGetValue(name, out object? v) ? v : null;

    private static string? OptionalChars(List<object?> args, string method) => args.Count == 0 || args[0] is null
        ? null
        : RequireString(args[0], method, "chars");

    private static IEnumerable<string> Affixes(List<object?> args, string method) => args.FirstOrDefault() switch
    {
        string p => [p],
        List<object?> options => options.Select(o => RequireString(o, method, "prefix")),
        var other => throw new ChatTemplateException($"str.{method}() argument must be str or a tuple of str, not {PyOps.TypeName(other)}"),
    };

    private static string RequireString(object? value, string method, string parameter) => value as string
        ?? throw new ChatTemplateException($"str.{method}(): '{parameter}' must be a string, not {PyOps.TypeName(value)}");
}
