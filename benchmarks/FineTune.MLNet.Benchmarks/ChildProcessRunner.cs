using System.Diagnostics;
using System.Text.Json;

namespace FineTune.MLNet.Benchmarks;

/// <summary>Runs one scenario in a fresh copy of this program (<c>--scenario NAME</c>) and reads its result line.</summary>
internal static class ChildProcessRunner
{
    public const string ResultPrefix = "RESULT ";

    public static ScenarioResult Run(string scenario, BenchmarkSettings settings)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this program's executable to start a scenario process.");
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(ChildProcessRunner).Assembly.Location);   // started as `dotnet X.dll`
        }
        info.ArgumentList.Add("--scenario");
        info.ArgumentList.Add(scenario);
        if (settings.Quick) info.ArgumentList.Add("--quick");
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start the process for scenario '{scenario}'.");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"Scenario '{scenario}' failed (exit code {process.ExitCode}). Its output:\n{output}");
        return JsonSerializer.Deserialize<ScenarioResult>(line[ResultPrefix.Length..])
            ?? throw new InvalidDataException($"Scenario '{scenario}' printed an empty result.");
    }
}
