using System.Text.Json;
using FineTune.MLNet.Benchmarks;

// Usage: dotnet run -c Release --project benchmarks/FineTune.MLNet.Benchmarks -- [--quick] [--repeat N] [--only a,b] [--peer]
//        ... -- --scenario NAME [--quick]   (one scenario in this process; prints its result as JSON)
// --peer: the scenarios PyTorch also runs (TorchPeer.Scenarios) alternate with benchmarks/peer/torch_peer.py for
//         N rounds (--repeat, at least 3) and the report adds ours / PyTorch tokens/s; skipped with a reason without torch.
var settings = BenchmarkSettings.Parse(args);
var scenarioAt = Array.IndexOf(args, "--scenario");
if (scenarioAt >= 0)
{
    var result = Scenarios.Run(args[scenarioAt + 1], settings);
    Console.WriteLine(ChildProcessRunner.ResultPrefix + JsonSerializer.Serialize(result));
    return 0;
}

var repeatAt = Array.IndexOf(args, "--repeat");
var repeats = repeatAt >= 0 ? int.Parse(args[repeatAt + 1]) : 1;
var onlyAt = Array.IndexOf(args, "--only");
var names = onlyAt >= 0 ? ["matmul", .. args[onlyAt + 1].Split(',').Where(n => n != "matmul")] : Scenarios.Names;
var (peer, skipReason) = args.Contains("--peer") ? TorchPeer.Find() : (null, "");
if (args.Contains("--peer") && peer is null) Console.Error.WriteLine($"PyTorch peer skipped: {skipReason}.");
var peered = peer is null ? [] : names.Where(TorchPeer.Scenarios.Contains).ToList();
var loadBefore = MachineLoad.Average();
var results = new Dictionary<string, ScenarioResult>();
foreach (var name in names.Except(peered))
{
    for (var i = 0; i < repeats; i++)
    {
        Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {name} run {i + 1}/{repeats} (load {MachineLoad.Average()})");
        Keep(ChildProcessRunner.Run(name, settings));
    }
}
var threads = (int)TorchSharp.torch.get_num_threads();
var rounds = peer is null ? [] : PeerComparison.Run(peer, peered, Math.Max(3, repeats), threads, settings);
foreach (var r in rounds.SelectMany(r => r.OurResults)) Keep(r);
Console.WriteLine(MarkdownReport.Format(results, settings, loadBefore, MachineLoad.Average()));
if (args.Contains("--peer")) Console.WriteLine(PeerReport.Format(peer, skipReason, rounds, threads));
return 0;

void Keep(ScenarioResult r)
{
    var key = Scenarios.ScoreKey(r.Name);
    if (!results.TryGetValue(r.Name, out var best) || r[key] > best[key]) results[r.Name] = r;
}
