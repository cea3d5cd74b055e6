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

    /// <summary>
    /// A quick 2048³ GEMM rate (best of 3), taken in every scenario's process just before it runs: on a shared machine
    /// the report divides by the highest rate seen anywhere, so a busy moment cannot inflate the MFU.
    /// </summary>
    public static double QuickGflops()
    {
        using var scope = NewDisposeScope();
        const long n = 2048;
        var a = randn(n, n);   // (n, n)
        var b = randn(n, n);   // (n, n)
        Multiply(a, b);
        var best = double.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            Multiply(a, b);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    private static void Multiply(Tensor a, Tensor b) => a.matmul(b).Dispose();   // (M, N)
}
