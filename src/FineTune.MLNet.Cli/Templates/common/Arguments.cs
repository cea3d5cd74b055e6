using System.Globalization;

namespace {{Namespace}};

/// <summary>The program's command line: <c>--name value</c> pairs (e.g. <c>--epochs 1 --limit 32</c>).</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> _values;

    private Arguments(Dictionary<string, string> values) => _values = values;

    public static Arguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"Expected '--name value' pairs, got '{args[i]}'.");
            values[args[i][2..]] = args[++i];
        }
        return new Arguments(values);
    }

    public string Get(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public int GetInt(string name, int fallback) =>
        _values.TryGetValue(name, out var v) ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n : throw new ArgumentException($"--{name}: expected a positive integer, got '{v}'.") : fallback;

    public double GetDouble(string name, double fallback) =>
        _values.TryGetValue(name, out var v) ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x > 0
            ? x : throw new ArgumentException($"--{name}: expected a positive number, got '{v}'.") : fallback;
}
