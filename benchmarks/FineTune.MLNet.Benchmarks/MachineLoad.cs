namespace FineTune.MLNet.Benchmarks;

/// <summary>The 1, 5 and 15 minute load averages (<c>/proc/loadavg</c>), printed beside timings taken on a shared machine.</summary>
internal static class MachineLoad
{
    public static string Average() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
