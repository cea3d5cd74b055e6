namespace FineTune.MLNet.Planning;

/// <summary>Memory of this machine and this process, from <c>/proc</c> (Linux); elsewhere what .NET reports, or null.</summary>
public static class MachineMemory
{
    /// <summary>
    /// Environment variable capping <see cref="AvailableBytes"/>: bytes, or a number with KiB, MiB or GiB (<c>6GiB</c>),
    /// to plan for a smaller machine than this one (and to test the won't-fit warnings).
    /// </summary>
    public const string BudgetVariable = "FINETUNE_MEMORY_BUDGET";

    /// <summary>
    /// MemAvailable of <c>/proc/meminfo</c> in bytes (what can be allocated without swapping), else .NET's total
    /// available memory; at most <see cref="BudgetVariable"/> when that is set.
    /// </summary>
    /// <exception cref="ArgumentException"><see cref="BudgetVariable"/> is not a size.</exception>
    public static long AvailableBytes()
    {
        long available = ReadKiB("/proc/meminfo", "MemAvailable:") is { } kib ? kib * 1024 : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return Budget() is { } budget ? Math.Min(budget, available) : available;
    }

    /// <summary>What <see cref="AvailableBytes"/> stands for, for messages: <c>MemAvailable</c> or the budget variable.</summary>
    public static string AvailableSource => Budget() is not null ? BudgetVariable : "MemAvailable";

    /// <summary>The <see cref="BudgetVariable"/> in bytes, or null when it is not set.</summary>
    public static long? Budget()
    {
        var text = Environment.GetEnvironmentVariable(BudgetVariable)?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        (string number, long unit) = text switch
        {
            _ when text.EndsWith("GiB", StringComparison.OrdinalIgnoreCase) => (text[..^3], 1L << 30),
            _ when text.EndsWith("MiB", StringComparison.OrdinalIgnoreCase) => (text[..^3], 1L << 20),
            _ when text.EndsWith("KiB", StringComparison.OrdinalIgnoreCase) => (text[..^3], 1L << 10),
            _ => (text, 1L),
        };
        if (!double.TryParse(number.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || !(value > 0))
            throw new ArgumentException($"{BudgetVariable} must be a positive size in bytes or with KiB, MiB or GiB (e.g. 6GiB), got '{text}'.");
        return (long)(value * unit);
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
