namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// Jinja's <c>obj.name</c> and <c>obj[key]</c>: a missing key, attribute or index gives <see cref="Undefined"/>,
/// but looking anything up on an undefined value fails, as with Jinja's default <c>Undefined</c>.
/// </summary>
internal static class Lookup
{
    public static object? Attribute(object? target, string name) => target switch
    {
        Undefined u => throw new ChatTemplateException(u.Hint),
        OrderedDictionary<string, object?> dict => dict.TryGetValue(name, out object? v) ? v : new Undefined($"'dict object' has no attribute '{name}'"),
        Namespace ns => ns.Attributes.TryGetValue(name, out object? v) ? v : new Undefined($"'Namespace' object has no attribute '{name}'"),
        LoopInfo loop => loop.Get(name),
        _ => new Undefined($"'{Describe(target)}' has no attribute '{name}'"),
    };

    public static object? Item(object? target, object? key)
    {
        switch (target)
        {
            case Undefined u:
                throw new ChatTemplateException(u.Hint);
            case List<object?> list when key is long or bool:
                long index = key is bool b ? (b ? 1 : 0) : (long)key;
                long resolved = index < 0 ? list.Count + index : index;
                return resolved >= 0 && resolved < list.Count ? list[(int)resolved] : new Undefined($"list object has no element {index}");
            case string s when key is long i:
                var runes = s.EnumerateRunes().ToList();
                long at = i < 0 ? runes.Count + i : i;
                return at >= 0 && at < runes.Count ? runes[(int)at].ToString() : new Undefined($"str object has no element {i}");
            case OrderedDictionary<string, object?> dict when key is string name:
                return dict.TryGetValue(name, out object? v) ? v : new Undefined($"'dict object' has no attribute '{name}'");
            default:
                return key is string attr ? Attribute(target, attr) : new Undefined($"'{Describe(target)}' has no element {PyOps.Repr(key)}");
        }
    }

    /// <summary>Python slicing <c>x[start:stop:step]</c> on lists and strings.</summary>
    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        long stepValue = step is long st ? st : 1;
        if (stepValue == 0)
        {
            throw new ChatTemplateException("slice step cannot be zero");
        }

        List<object?> items = target switch
        {
            List<object?> list => list,
            string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
            Undefined u => throw new ChatTemplateException(u.Hint),
            _ => throw new ChatTemplateException($"'{PyOps.TypeName(target)}' object is not subscriptable"),
        };

        int n = items.Count;
        long Clamp(object? bound, long whenMissing)
        {
            if (bound is null or Undefined)
            {
                return whenMissing;
            }

            long v = bound is long l ? l : throw new ChatTemplateException($"slice indices must be integers or None, not {PyOps.TypeName(bound)}");
            if (v < 0)
            {
                v += n;
            }

            return stepValue > 0 ? Math.Clamp(v, 0, n) : Math.Clamp(v, -1, n - 1);
        }

        long from = Clamp(start, stepValue > 0 ? 0 : n - 1);
        long to = Clamp(stop, stepValue > 0 ? n : -1);
        var result = new List<object?>();
        for (long i = from; stepValue > 0 ? i < to : i > to; i += stepValue)
        {
            result.Add(items[(int)i]);
        }

        return target is string ? string.Concat(result.Cast<string>()) : result;
    }

    /// <summary>Follows a dotted path such as <c>"function.name"</c>, as <c>map(attribute=...)</c> and <c>selectattr</c> do.</summary>
    public static object? Path(object? target, string path)
    {
        object? current = target;
        foreach (string part in path.Split('.'))
        {
            current = long.TryParse(part, out long index) ? Item(current, index) : Item(current, part);
        }

        return current;
    }

    private static string Describe(object? value) => value is null ? "None" : PyOps.TypeName(value) + " object";
}
