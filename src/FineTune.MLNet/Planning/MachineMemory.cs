namespace FineTune.MLNet.Planning;

/// <summary>Memory of this machine and this process, from <c>/proc</c> (Linux); elsewhere what .NET reports, or null.</summary>
public static class MachineMemory
{
    /// <summary>MemAvailable of <c>/proc/meminfo</c> in bytes (what can be allocated without swapping); else .NET's total available memory.</summary>
    public static long AvailableBytes()
    {
        if (ReadKiB("/proc/meminfo", "MemAvailable:") is { } kib) return kib * 1024;
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>Resident set size of this process (VmRSS), bytes; null off Linux.</summary>
    public static long? ResidentBytes() => ReadKiB("/proc/self/status", "VmRSS:") * 1024;

    /// <summary>Peak resident set size of this process (VmHWM) since it started or since <see cref="ResetPeak"/>, bytes; null off Linux.</summary>
    public static long? PeakBytes() => ReadKiB("/proc/self/status", "VmHWM:") * 1024;

    /// <summary>Resets VmHWM to the current RSS (writing 5 to <c>/proc/self/clear_refs</c>, Linux 4.0+); false where that is not possible.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    private static long? ReadKiB(string path, string key)
    {
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.TryParse(parts[0], out var v) ? v : null;
        }
        return null;
    }
}
