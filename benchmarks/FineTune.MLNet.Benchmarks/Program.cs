using System.Text.Json;
using FineTune.MLNet.Benchmarks;

// Usage: dotnet run -c Release --project benchmarks/FineTune.MLNet.Benchmarks -- [--quick] [--repeat N] [--only a,b]
//        ... -- --scenario NAME [--quick]   (one scenario in this process; prints its result as JSON)
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
var loadBefore = LoadAverage();
var results = new Dictionary<string, ScenarioResult>();
foreach (var name in names)
{
    for (var i = 0; i < repeats; i++)
    {
        Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {name} run {i + 1}/{repeats} (load {LoadAverage()})");
        var r = ChildProcessRunner.Run(name, settings);
        var key = Scenarios.ScoreKey(name);
        if (!results.TryGetValue(name, out var best) || r[key] > best[key]) results[name] = r;
    }
}
Console.WriteLine(MarkdownReport.Format(results, settings, loadBefore, LoadAverage()));
return 0;

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
