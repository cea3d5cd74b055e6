namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>The <c>x is name(args)</c> tests of Jinja that chat templates use.</summary>
internal static class JinjaTests
{
    public static bool Apply(string name, object? value, List<object?> args) => name switch
    {
        "defined" => value is not Undefined,
        "undefined" => value is Undefined,
        "none" => value is null,
        "string" => value is string,
        "number" => value is long or double or bool,
        "integer" => value is long,
        "float" => value is double,
        "boolean" => value is bool,
        "true" => value is true,
        "false" => value is false,
        "mapping" => value is OrderedDictionary<string, object?>,
        "iterable" => value is string or List<object?> or OrderedDictionary<string, object?> or Undefined,
        "sequence" => value is string or List<object?> or OrderedDictionary<string, object?> or Undefined,
        "callable" => value is JinjaFunction,
        "even" => AsInteger(value, name) % 2 == 0,
        "odd" => AsInteger(value, name) % 2 != 0,
        "divisibleby" => AsInteger(value, name) % AsInteger(Arg(args, name), name) == 0,
        "eq" or "equalto" or "==" => PyOps.Equals(value, Arg(args, name)),
        "ne" or "!=" => !PyOps.Equals(value, Arg(args, name)),
        "lt" or "lessthan" or "<" => PyOps.Compare(value, Arg(args, name), "<") < 0,
        "le" or "<=" => PyOps.Compare(value, Arg(args, name), "<=") <= 0,
        "gt" or "greaterthan" or ">" => PyOps.Compare(value, Arg(args, name), ">") > 0,
        "ge" or ">=" => PyOps.Compare(value, Arg(args, name), ">=") >= 0,
        "in" => PyOps.Contains(Arg(args, name), value),
        "sameas" => SameAs(value, Arg(args, name)),
        "lower" => value is string s && s == s.ToLowerInvariant(),
        "upper" => value is string s && s == s.ToUpperInvariant(),
        _ => throw new ChatTemplateException($"no test named '{name}'"),
    };

    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        _ => ReferenceEquals(a, b),
    };

    private static object? Arg(List<object?> args, string test) =>
        args.Count > 0 ? args[0] : throw new ChatTemplateException($"test '{test}' needs an argument");

    private static long AsInteger(object? value, string test) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d when d == Math.Floor(d) => (long)d,
        Undefined u => throw new ChatTemplateException(u.Hint),
        _ => throw new ChatTemplateException($"test '{test}' needs an integer, not {PyOps.TypeName(value)}"),
    };
}
