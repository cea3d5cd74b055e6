namespace FineTune.MLNet.Benchmarks;

/// <summary>Peak resident set size of this process (Linux <c>VmHWM</c> from <c>/proc/self/status</c>).</summary>
internal static class ProcessMemory
{
    /// <summary>Peak resident memory in MiB, or NaN where <c>/proc/self/status</c> is not available.</summary>
    public static double PeakResidentMiB()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return double.NaN;
        foreach (var line in File.ReadLines(status))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
            var kib = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]);
            return kib / 1024.0;
        }
        return double.NaN;
    }
}
