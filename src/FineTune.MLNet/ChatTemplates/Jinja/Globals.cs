using System.Globalization;
using System.Text;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// The global functions transformers' chat-template environment provides: <c>raise_exception</c>,
/// <c>strftime_now</c>, plus Jinja's <c>range</c>, <c>namespace</c> and <c>dict</c>.
/// </summary>
internal static class Globals
{
    public static Scope Create(Func<DateTime> clock)
    {
        var scope = new Scope(null);
        scope.Set("raise_exception", new JinjaFunction("raise_exception", (args, _) =>
            throw new ChatTemplateException(args.Count > 0 ? PyOps.ToStr(args[0]) : "raise_exception() called", isRaisedByTemplate: true)));
        scope.Set("strftime_now", new JinjaFunction("strftime_now", (args, _) =>
            Strftime(clock(), args.Count > 0 ? PyOps.ToStr(args[0]) : throw new ChatTemplateException("strftime_now() needs a format string"))));
        scope.Set("range", new JinjaFunction("range", (args, _) => Range(args)));
        scope.Set("namespace", new JinjaFunction("namespace", (args, kwargs) =>
        {
            var ns = new Namespace();
            if (args.Count > 0 && args[0] is OrderedDictionary<string, object?> initial)
            {
                foreach (var (key, value) in initial)
                {
                    ns.Attributes[key] = value;
                }
            }

            foreach (var (key, value) in kwargs)
            {
                ns.Attributes[key] = value;
            }

            return ns;
        }));
        scope.Set("dict", new JinjaFunction("dict", (_, kwargs) =>
        {
            var dict = new OrderedDictionary<string, object?>();
            foreach (var (key, value) in kwargs)
            {
                dict[key] = value;
            }

            return dict;
        }));
        return scope;
    }

    private static List<object?> Range(List<object?> args)
    {
        long[] n = args.Select(a => a is long l ? l : throw new ChatTemplateException($"range() needs integers, not {PyOps.TypeName(a)}")).ToArray();
        (long start, long stop, long step) = n.Length switch
        {
            1 => (0L, n[0], 1L),
            2 => (n[0], n[1], 1L),
            3 => (n[0], n[1], n[2]),
            _ => throw new ChatTemplateException("range() takes 1 to 3 arguments"),
        };
        if (step == 0)
        {
            throw new ChatTemplateException("range() arg 3 must not be zero");
        }

        double count = step > 0 ? Math.Ceiling(((double)stop - start) / step) : Math.Ceiling(((double)start - stop) / -(double)step);
        RenderBudget.Current.CheckItems(count, $"range({string.Join(", ", n)})");
        var result = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            result.Add(i);
        }

        return result;
    }

    /// <summary>Python <c>datetime.strftime</c> for the common directives (C locale).</summary>
    public static string Strftime(DateTime time, string format)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            char directive = format[++i];
            sb.Append(directive switch
            {
                'd' => time.Day.ToString("00", ci),
                'm' => time.Month.ToString("00", ci),
                'Y' => time.Year.ToString("0000", ci),
                'y' => (time.Year % 100).ToString("00", ci),
                'H' => time.Hour.ToString("00", ci),
                'I' => ((time.Hour + 11) % 12 + 1).ToString("00", ci),
                'M' => time.Minute.ToString("00", ci),
                'S' => time.Second.ToString("00", ci),
                'f' => (time.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", ci),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'B' => time.ToString("MMMM", ci),
                'b' or 'h' => time.ToString("MMM", ci),
                'A' => time.ToString("dddd", ci),
                'a' => time.ToString("ddd", ci),
                'j' => time.DayOfYear.ToString("000", ci),
                'e' => time.Day.ToString(ci).PadLeft(2),
                '%' => "%",
                _ => throw new ChatTemplateException($"strftime_now: unsupported directive '%{directive}'"),
            });
        }

        return sb.ToString();
    }
}
