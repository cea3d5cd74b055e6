namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// Ours against the PyTorch eager peer in alternating rounds (issue 11 §4): each round runs every scenario once in our
/// child process and once in the peer's, the order flipped every round, so a noisy shared machine hits both alike.
/// Reported: the median tokens/s of each side and the median of the per-round ratios ours / PyTorch.
/// </summary>
internal static class PeerComparison
{
    /// <summary>One scenario's rounds: our and the peer's tokens/s, round by round.</summary>
    public sealed record Rounds(string Scenario, List<double> Ours, List<double> Peer, List<ScenarioResult> OurResults, List<ScenarioResult> PeerResults)
    {
        public double OursMedian => Median(Ours);
        public double PeerMedian => Median(Peer);
        public double RatioMedian => Median(Ours.Zip(Peer, (o, p) => o / p).ToList());
    }

    public static List<Rounds> Run(TorchPeer peer, IEnumerable<string> scenarios, int rounds, int threads, BenchmarkSettings settings)
    {
        var all = scenarios.Select(s => new Rounds(s, [], [], [], [])).ToList();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var r in all)
            {
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {r.Scenario} vs PyTorch, round {round + 1}/{rounds} (load {MachineLoad.Average()})");
                void Ours()
                {
                    var result = ChildProcessRunner.Run(r.Scenario, settings);
                    r.OurResults.Add(result);
                    r.Ours.Add(result["tokens_per_s"]);
                }
                void Peer()
                {
                    var result = peer.Run(r.Scenario, threads, settings.Quick);
                    r.PeerResults.Add(result);
                    r.Peer.Add(result["tokens_per_s"]);
                }
                if (round % 2 == 0) { Ours(); Peer(); } else { Peer(); Ours(); }
                Console.Error.WriteLine($"    ours {r.Ours[^1]:F0} tokens/s (GEMM 2048³ {r.OurResults[^1]["local_peak_gflops"]:F1} GFLOP/s), " +
                                        $"PyTorch {r.Peer[^1]:F0} tokens/s (GEMM 1024³ {r.PeerResults[^1]["gemm_1024_gflops"]:F1} GFLOP/s), ratio {r.Ours[^1] / r.Peer[^1]:F2}");
            }
        }
        return all;
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
