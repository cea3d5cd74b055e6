using System.Globalization;
using System.Text;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// Python value semantics used by Jinja: truthiness, <c>str()</c>/<c>repr()</c>, equality, ordering, arithmetic.
/// Values are <c>null</c> (None), <see cref="bool"/>, <see cref="long"/>, <see cref="double"/>, <see cref="string"/>,
/// <c>List&lt;object?&gt;</c>, <c>OrderedDictionary&lt;string, object?&gt;</c>, <see cref="Undefined"/>,
/// <see cref="Namespace"/>, <see cref="LoopInfo"/> and <see cref="JinjaFunction"/>.
/// </summary>
internal static class PyOps
{
    public static bool IsTruthy(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        OrderedDictionary<string, object?> dict => dict.Count > 0,
        _ => true,
    };

    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "dict",
        Undefined => "Undefined",
        Namespace => "Namespace",
        LoopInfo => "LoopContext",
        JinjaFunction => "function",
        _ => value.GetType().Name,
    };

    /// <summary>Python <c>str(value)</c>; undefined renders as the empty string.</summary>
    public static string ToStr(object? value) => value switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(value),
    };

    public static string Repr(object? value) => Repr(value, 0);

    private static string Repr(object? value, int depth)
    {
        switch (value)
        {
            case null:
                return "None";
            case bool b:
                return b ? "True" : "False";
            case long l:
                return l.ToString(CultureInfo.InvariantCulture);
            case double d:
                return FormatFloat(d);
            case string s:
                return ReprString(s);
            case Undefined:
                return "";
            case List<object?> list:
                return BoundedJoin("[", list.Select(item => Repr(item, depth + 1)), "]", depth);
            case OrderedDictionary<string, object?> dict:
                return BoundedJoin("{", dict.Select(kv => ReprString(kv.Key) + ": " + Repr(kv.Value, depth + 1)), "}", depth);
            case Namespace ns:
                return BoundedJoin("<Namespace ", ns.Attributes.Select(kv => kv.Key + "=" + Repr(kv.Value, depth + 1)), ">", depth);
            default:
                return "<" + TypeName(value) + ">";
        }
    }

    /// <summary>open + parts joined by ", " + close, refused as soon as it outgrows the render's string limit.</summary>
    private static string BoundedJoin(string open, IEnumerable<string> parts, string close, int depth)
    {
        var budget = RenderBudget.Current;
        budget.CheckDepth(depth + 1);
        budget.Tick();
        var sb = new StringBuilder(open);
        bool first = true;
        foreach (string part in parts)
        {
            budget.CheckChars((double)sb.Length + part.Length + 2, "the printed value");
            sb.Append(first ? "" : ", ").Append(part);
            first = false;
        }

        return sb.Append(close).ToString();
    }

    /// <summary>Python <c>sep.join(parts)</c>, refused before it outgrows the render's string limit.</summary>
    public static string Join(string separator, IEnumerable<object?> parts)
    {
        var budget = RenderBudget.Current;
        var sb = new StringBuilder();
        bool first = true;
        foreach (object? part in parts)
        {
            string text = ToStr(part);
            budget.CheckChars((double)sb.Length + separator.Length + text.Length, "join()");
            sb.Append(first ? "" : separator).Append(text);
            first = false;
        }

        return sb.ToString();
    }

    private static string ReprString(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote)
                    {
                        sb.Append('\\').Append(c);
                    }
                    else if (c < 0x20 || c == 0x7f)
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append(quote).ToString();
    }

    /// <summary>Python <c>repr(float)</c>: shortest round-trip digits, exponent form when exp &lt; -4 or &gt;= 16.</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        if (d == 0)
        {
            return double.IsNegative(d) ? "-0.0" : "0.0";
        }

        // "R" gives the shortest round-trip digits, in fixed or E notation; split into digits and a decimal exponent
        // so that value = d1.d2d3... * 10^exponent.
        string shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int e = shortest.IndexOfAny(['E', 'e']);
        string mantissa = e >= 0 ? shortest[..e] : shortest;
        int extraExp = e >= 0 ? int.Parse(shortest[(e + 1)..], CultureInfo.InvariantCulture) : 0;
        int dot = mantissa.IndexOf('.');
        string intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        string fracPart = dot >= 0 ? mantissa[(dot + 1)..] : "";
        string all = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - all.Length;
        string digits = all.TrimEnd('0');
        int exponent = intPart.Length - 1 - leadingZeros + extraExp;
        if (digits.Length == 0)
        {
            digits = "0";
        }

        string sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16)
        {
            string m = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            string expText = Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
            return sign + m + "e" + (exponent < 0 ? "-" : "+") + expText;
        }

        if (exponent < 0)
        {
            return sign + "0." + new string('0', -exponent - 1) + digits;
        }

        if (digits.Length <= exponent + 1)
        {
            return sign + digits + new string('0', exponent + 1 - digits.Length) + ".0";
        }

        return sign + digits[..(exponent + 1)] + "." + digits[(exponent + 1)..];
    }

    public static bool IsNumber(object? value) => value is long or double or bool;

    private static double AsDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new InvalidOperationException(),
    };

    private static long AsLong(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new InvalidOperationException(),
    };

    private static bool IsIntegral(object? value) => value is long or bool;

    public static new bool Equals(object? a, object? b)
    {
        if (a is Undefined || b is Undefined)
        {
            return a is Undefined && b is Undefined;
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return IsIntegral(a) && IsIntegral(b) ? AsLong(a) == AsLong(b) : AsDouble(a) == AsDouble(b);
        }

        RenderBudget.Current.Tick();
        return (a, b) switch
        {
            (null, null) => true,
            (string x, string y) => x == y,
            (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Equals(p.First, p.Second)),
            (OrderedDictionary<string, object?> x, OrderedDictionary<string, object?> y) =>
                x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out object? v) && Equals(kv.Value, v)),
            _ => ReferenceEquals(a, b),
        };
    }

    /// <summary>Python ordering for <c>&lt; &lt;= &gt; &gt;=</c>: numbers with numbers, strings with strings, lists element-wise.</summary>
    public static int Compare(object? a, object? b, string op)
    {
        if (a is Undefined u || b is Undefined)
        {
            throw new ChatTemplateException(((a as Undefined) ?? (Undefined)b!).Hint);
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return IsIntegral(a) && IsIntegral(b) ? AsLong(a).CompareTo(AsLong(b)) : AsDouble(a).CompareTo(AsDouble(b));
        }

        if (a is string sa && b is string sb)
        {
            return string.CompareOrdinal(sa, sb);
        }

        if (a is List<object?> la && b is List<object?> lb)
        {
            RenderBudget.Current.Tick();
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (!Equals(la[i], lb[i]))
                {
                    return Compare(la[i], lb[i], op);
                }
            }

            return la.Count.CompareTo(lb.Count);
        }

        throw new ChatTemplateException($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        string s when item is string sub => s.Contains(sub, StringComparison.Ordinal),
        string => throw new ChatTemplateException($"'in <string>' requires string as left operand, not {TypeName(item)}"),
        List<object?> list => list.Any(x => Equals(x, item)),
        OrderedDictionary<string, object?> dict => item is string key && dict.ContainsKey(key),
        Undefined => false,
        Namespace ns => item is string key && ns.Attributes.ContainsKey(key),
        _ => throw new ChatTemplateException($"argument of type '{TypeName(container)}' is not iterable"),
    };

    /// <summary>The items a <c>for</c> loop or filter walks: list items, dict keys, string characters; undefined is empty.</summary>
    public static List<object?> Iterate(object? value) => value switch
    {
        List<object?> list => list,
        OrderedDictionary<string, object?> dict => dict.Keys.Cast<object?>().ToList(),
        string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
        Undefined => [],
        Namespace ns => ns.Attributes.Keys.Cast<object?>().ToList(),
        _ => throw new ChatTemplateException($"'{TypeName(value)}' object is not iterable"),
    };

    public static long Length(object? value) => value switch
    {
        string s => s.EnumerateRunes().Count(),
        List<object?> list => list.Count,
        OrderedDictionary<string, object?> dict => dict.Count,
        Undefined => 0,
        _ => throw new ChatTemplateException($"object of type '{TypeName(value)}' has no len()"),
    };

    public static object? Binary(string op, object? a, object? b)
    {
        if (op == "~")
        {
            string left = ToStr(a), right = ToStr(b);
            RenderBudget.Current.CheckChars((double)left.Length + right.Length, "the string concatenation");
            return left + right;
        }

        if (a is Undefined ua)
        {
            throw new ChatTemplateException(ua.Hint);
        }

        if (b is Undefined ub)
        {
            throw new ChatTemplateException(ub.Hint);
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return Arithmetic(op, a, b);
        }

        switch (op, a, b)
        {
            case ("+", string x, string y):
                RenderBudget.Current.CheckChars((double)x.Length + y.Length, "the string concatenation");
                return x + y;
            case ("+", List<object?> x, List<object?> y):
                RenderBudget.Current.CheckItems((double)x.Count + y.Count, "the list concatenation");
                return x.Concat(y).ToList();
            case ("*", string s, long n):
                return RepeatString(s, n);
            case ("*", long n, string s):
                return RepeatString(s, n);
            case ("*", List<object?> l, long n):
                RenderBudget.Current.CheckItems((double)l.Count * Math.Max(0, n), $"list * {n}");
                return Enumerable.Repeat(l, (int)Math.Max(0, n)).SelectMany(x => x).ToList();
            case ("%", string format, _):
                return PercentFormat(format, b);
        }

        string verb = op == "+" && (a is string || b is string)
            ? $"can only concatenate {TypeName(a)} (not \"{TypeName(b)}\") to {TypeName(a)}"
            : $"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'";
        throw new ChatTemplateException(verb);
    }

    private static string RepeatString(string s, long n)
    {
        RenderBudget.Current.CheckChars((double)s.Length * Math.Max(0, n), $"str * {n}");
        return string.Concat(Enumerable.Repeat(s, (int)Math.Max(0, n)));
    }

    /// <summary>Integer x ** y (y >= 0) by squaring; Python has big integers, this interpreter has 64 bits and says so.</summary>
    private static long IntegerPower(long x, long y)
    {
        long result = 1;
        while (y > 0)
        {
            if ((y & 1) == 1) result = checked(result * x);
            y >>= 1;
            if (y > 0) x = checked(x * x);
        }

        return result;
    }

    private static object Arithmetic(string op, object? a, object? b)
    {
        try
        {
            return UncheckedArithmetic(op, a, b);
        }
        catch (OverflowException)
        {
            throw new ChatTemplateException($"integer overflow: {Repr(a)} {op} {Repr(b)} does not fit in 64 bits");
        }
    }

    private static object UncheckedArithmetic(string op, object? a, object? b)
    {
        bool integral = IsIntegral(a) && IsIntegral(b);
        if (op == "/")
        {
            double divisor = AsDouble(b);
            return divisor == 0 ? throw new ChatTemplateException("division by zero") : AsDouble(a) / divisor;
        }

        if (integral)
        {
            long x = AsLong(a), y = AsLong(b);
            switch (op)
            {
                case "+": return checked(x + y);
                case "-": return checked(x - y);
                case "*": return checked(x * y);
                case "//":
                    if (y == 0)
                    {
                        throw new ChatTemplateException("integer division or modulo by zero");
                    }

                    return checked(FloorDiv(x, y));
                case "%":
                    if (y == 0)
                    {
                        throw new ChatTemplateException("integer division or modulo by zero");
                    }

                    return y == -1 ? 0L : x - (FloorDiv(x, y) * y);
                case "**":
                    return y >= 0 ? (object)IntegerPower(x, y) : Math.Pow(x, y);
            }
        }

        double dx = AsDouble(a), dy = AsDouble(b);
        switch (op)
        {
            case "+": return dx + dy;
            case "-": return dx - dy;
            case "*": return dx * dy;
            case "//": return dy == 0 ? throw new ChatTemplateException("float floor division by zero") : Math.Floor(dx / dy);
            case "%":
                if (dy == 0)
                {
                    throw new ChatTemplateException("float modulo");
                }

                double m = dx % dy;
                return m != 0 && (m < 0) != (dy < 0) ? m + dy : m;
            case "**": return Math.Pow(dx, dy);
        }

        throw new ChatTemplateException($"unknown operator '{op}'");
    }

    private static long FloorDiv(long x, long y)
    {
        long q = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q;
    }

    public static object? Negate(object? value) => value switch
    {
        long l => l == long.MinValue ? throw new ChatTemplateException("integer overflow: -(" + l + ") does not fit in 64 bits") : (object)(-l),
        double d => -d,
        bool b => b ? -1L : 0L,
        Undefined u => throw new ChatTemplateException(u.Hint),
        _ => throw new ChatTemplateException($"bad operand type for unary -: '{TypeName(value)}'"),
    };

    /// <summary>Python <c>'%s and %d' % args</c> for the common <c>%s</c>, <c>%d</c>, <c>%%</c> cases.</summary>
    private static string PercentFormat(string format, object? args)
    {
        var values = args is List<object?> list ? list : [args];
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            char spec = format[++i];
            if (spec == '%')
            {
                sb.Append('%');
                continue;
            }

            if (next >= values.Count)
            {
                throw new ChatTemplateException("not enough arguments for format string");
            }

            object? v = values[next++];
            sb.Append(spec switch
            {
                's' => ToStr(v),
                'r' => Repr(v),
                'd' or 'i' => IsNumber(v) ? ((long)AsDouble(v)).ToString(CultureInfo.InvariantCulture) : throw new ChatTemplateException("%d format: a number is required"),
                _ => throw new ChatTemplateException($"unsupported format character '{spec}'"),
            });
        }

        return sb.ToString();
    }
}
