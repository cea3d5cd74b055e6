using System.Diagnostics;

namespace FineTune.MLNet.Reporting;

/// <summary>The process's peak resident memory, for a run's metrics.</summary>
public static class PeakMemory
{
    /// <summary>
    /// Peak resident set size in bytes: <c>VmHWM</c> of <c>/proc/self/status</c> on Linux (the kernel's high-water mark,
    /// native allocations such as libtorch's included), else <see cref="Process.PeakWorkingSet64"/>.
    /// </summary>
    public static long PeakRssBytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (var line in File.ReadLines(status))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                var kb = line["VmHWM:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                if (long.TryParse(kb, out var value)) return value * 1024;
            }
        }
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }
}
