using System.Text.Json;

namespace FineTune.MLNet.Tests.Dpo;

/// <summary>Golden numbers of Fixtures/dpo/golden.json (made by make_fixtures.py from the numpy reference).</summary>
internal static class DpoFixtures
{
    private static readonly Lazy<JsonElement> s_golden = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "dpo", "golden.json"))).RootElement);

    public static JsonElement Golden(string key) => s_golden.Value.GetProperty(key);

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    public static readonly string[] TrlMetricNames =
        ["loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"];
}
