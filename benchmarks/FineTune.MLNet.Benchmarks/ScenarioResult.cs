namespace FineTune.MLNet.Benchmarks;

/// <summary>What one scenario measured: named numbers (units in the key names) and the process's peak resident memory.</summary>
internal sealed record ScenarioResult(string Name, Dictionary<string, double> Values)
{
    public double this[string key] => Values.TryGetValue(key, out var v) ? v : double.NaN;
}
