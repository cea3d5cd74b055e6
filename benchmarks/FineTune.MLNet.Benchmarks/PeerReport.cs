using System.Globalization;
using System.Text;

namespace FineTune.MLNet.Benchmarks;

/// <summary>The "side by side with PyTorch" table: medians of alternating rounds and the ratio ours / PyTorch.</summary>
internal static class PeerReport
{
    public static string Format(TorchPeer? peer, string skipReason, IReadOnlyList<PeerComparison.Rounds> rounds, int threads)
    {
        var md = new StringBuilder();
        md.AppendLine("### Side by side with PyTorch eager (benchmarks/peer/torch_peer.py)");
        md.AppendLine();
        if (peer is null)
        {
            md.AppendLine($"Skipped: {skipReason}.");
            return md.ToString();
        }
        md.AppendLine($"Peer: Python torch {peer.Version} (BLAS: {peer.Blas}); ours: TorchSharp over libtorch 2.10 (MKL). Same shapes, float32, " +
                      $"{threads} threads each; {rounds.FirstOrDefault()?.Ours.Count ?? 0} alternating rounds (order flipped each round), medians. " +
                      "The peer's LoRA is a minimal LoRA linear (PEFT is not installed offline), its attention eager (matmul, softmax, matmul).");
        md.AppendLine();
        md.AppendLine("| Scenario | Ours tokens/s | PyTorch tokens/s | Ours / PyTorch (median of rounds) | Rounds: ours / PyTorch tokens/s | GEMM GFLOP/s in the processes: ours 2048³ / PyTorch 1024³ (medians) |");
        md.AppendLine("|---|---:|---:|---:|---|---:|");
        foreach (var r in rounds)
        {
            var each = string.Join(", ", r.Ours.Zip(r.Peer, (o, p) => $"{F(o)} / {F(p)}"));
            var gemm = $"{G(r.OurResults, "local_peak_gflops")} / {G(r.PeerResults, "gemm_1024_gflops")}";
            md.AppendLine($"| {r.Scenario} | {F(r.OursMedian)} | {F(r.PeerMedian)} | **{r.RatioMedian.ToString("F2", CultureInfo.InvariantCulture)}×** | {each} | {gemm} |");
        }
        md.AppendLine();
        return md.ToString();
    }

    private static string G(IEnumerable<ScenarioResult> results, string key) =>
        PeerComparison.Median(results.Select(r => r[key]).ToList()).ToString("F1", CultureInfo.InvariantCulture);

    private static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("N0", CultureInfo.InvariantCulture);
}
