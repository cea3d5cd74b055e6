using System.Diagnostics;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// The machine's attainable fp32 matmul rate through TorchSharp (the MFU denominator): best of N runs of
/// square and tall-skinny GEMMs, and the MiniLM feed-forward GEMM shape itself.
/// </summary>
internal static class MatmulPeak
{
    /// <summary>(rows M, inner K, columns N) of each measured product.</summary>
    public static readonly (long M, long K, long N)[] Shapes = [(2048, 2048, 2048), (4096, 1024, 1024), (2048, 384, 1536)];

    public static ScenarioResult Run(BenchmarkSettings settings)
    {
        var values = new Dictionary<string, double>();
        foreach (var (m, k, n) in Shapes)
        {
            using var scope = NewDisposeScope();
            var a = randn(m, k);     // (M, K)
            var b = randn(k, n);     // (K, N)
            for (var i = 0; i < 2; i++) Multiply(a, b);
            var best = double.MaxValue;
            for (var i = 0; i < settings.MatmulRepeats; i++)
            {
                var clock = Stopwatch.StartNew();
                Multiply(a, b);
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }
            values[$"gflops_{m}x{k}x{n}"] = 2.0 * m * k * n / best / 1e9;
        }
        values["peak_gflops"] = values.Values.Max();
        return new ScenarioResult("matmul", values);
    }

    private static void Multiply(Tensor a, Tensor b) => a.matmul(b).Dispose();   // (M, N)
}
