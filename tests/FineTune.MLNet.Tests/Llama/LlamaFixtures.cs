using FineTune.MLNet.Tests.TestSupport;
using System.Text.Json;
using FineTune.MLNet.Models.Llama;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Llama;

/// <summary>Paths and golden numbers of Fixtures/llama (made by make_fixtures.py from the numpy reference).</summary>
internal static class LlamaFixtures
{
    public static string Dir(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama", name);

    private static readonly Lazy<JsonElement> s_golden = new(() =>
        JsonDocument.Parse(File.ReadAllText(Dir("golden.json"))).RootElement);

    public static JsonElement Golden(string key) => s_golden.Value.GetProperty(key);

    public static long[][] Ids(string key) =>
        [.. Golden(key).GetProperty("ids").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray())];

    /// <summary>Per-sequence [T][V] logits (unpadded cases) or the padded batch [B][T][V].</summary>
    public static double[][][] Logits(string key) =>
        [.. Golden(key).GetProperty("logits").EnumerateArray()
            .Select(s => s.EnumerateArray().Select(t => t.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray())];

    public static long[][] Mask(string key) =>
        [.. Golden(key).GetProperty("mask").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray())];

    public static Tensor Row(long[] ids) => tensor(ids, dtype: ScalarType.Int64).unsqueeze(0);   // (1, T)

    public static Tensor Batch(long[][] ids) => tensor(ids.SelectMany(r => r).ToArray(), [ids.Length, ids[0].Length], ScalarType.Int64);

    /// <summary>Max |actual − expected| over a (T, V) logits tensor.</summary>
    public static double MaxAbsDiff(Tensor actual, double[][] expected)
    {
        var a = actual.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        long v = actual.shape[^1];
        Assert.Equal(expected.Length * (long)expected[0].Length, a.LongLength);
        double max = 0;
        for (int t = 0; t < expected.Length; t++)
            for (int j = 0; j < v; j++)
                max = Math.Max(max, Math.Abs(a[t * v + j] - expected[t][j]));
        return max;
    }

    /// <summary>Max difference between two tensors.</summary>
    public static double MaxAbsDiff(Tensor a, Tensor b) =>
        a.to_type(ScalarType.Float64).sub(b.to_type(ScalarType.Float64)).abs().max().item<double>();

    /// <summary>A new folder under the test run's temp root (deleted when the test process exits).</summary>
    public static string TempDir() => TestTempRoot.NewFolder("llama");

    /// <summary>Copies a fixture folder to a fresh temp folder (for tests that edit it).</summary>
    public static string CopyToTemp(string name)
    {
        var dir = TempDir();
        foreach (var file in Directory.EnumerateFiles(Dir(name)))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        return dir;
    }

    public static LlamaForCausalLM Load(string name, FineTune.MLNet.Peft.LoraSettings? lora = null) => LlamaForCausalLM.FromPretrained(Dir(name), lora);
}
