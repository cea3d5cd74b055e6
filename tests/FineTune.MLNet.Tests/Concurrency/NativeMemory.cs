using System.Globalization;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Concurrency;

/// <summary>Live libtorch tensors and resident memory of this process at one moment.</summary>
/// <param name="LiveTensors">TorchSharp's count of tensors created and not yet disposed or finalized (<c>Tensor.TotalCount</c>).</param>
/// <param name="ResidentBytes">VmRSS from <c>/proc/self/status</c>.</param>
internal readonly record struct MemorySnapshot(long LiveTensors, long ResidentBytes)
{
    public long ResidentMiB => ResidentBytes >> 20;

    /// <summary>
    /// Takes a snapshot; with <paramref name="collect"/> the managed heap is collected and finalizers run first, so
    /// tensors some earlier code dropped without disposing no longer count, and glibc is asked to return the free memory
    /// of its per-thread arenas (<c>malloc_trim</c>), so RSS reflects what is still held rather than how 16 threads
    /// happened to fragment the arenas.
    /// </summary>
    public static MemorySnapshot Take(bool collect)
    {
        if (collect)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            TrimNativeHeap();
        }
        return new MemorySnapshot(Tensor.TotalCount, ResidentSetBytes());
    }

    private static void TrimNativeHeap()
    {
        try
        {
            _ = malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc (e.g. musl): RSS then includes the allocator's free memory
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    private static long ResidentSetBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var kb = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidDataException("/proc/self/status has no VmRSS line.");
    }
}
