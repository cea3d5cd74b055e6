using Xunit;

namespace FineTune.MLNet.Tests.Concurrency;

/// <summary>
/// Runs a workload in equal rounds and fails when it left native tensors alive or kept growing resident memory. The
/// live tensor count must be back where it was before the first round, both before a collection (nothing left for the
/// finalizer to clean up) and after one. RSS is compared from the end of the first round (allocator arenas, GC
/// segments and libtorch's per-thread state are in place by then) to the end of the last: it may grow by at most
/// <see cref="ResidentGrowthLimitMiB"/>, while a leak of one small tensor per call would grow with every round.
/// </summary>
internal static class NoLeak
{
    public const long ResidentGrowthLimitMiB = 32;

    /// <summary>Runs <paramref name="round"/>(0 .. rounds − 1) between snapshots, asserts as above and returns the figures as one line.</summary>
    public static string Measure(string what, int rounds, Action<int> round)
    {
        if (rounds < 2) throw new ArgumentOutOfRangeException(nameof(rounds), "the RSS check needs at least 2 rounds");
        var before = MemorySnapshot.Take(collect: true);
        round(0);
        var settled = MemorySnapshot.Take(collect: true);
        for (var r = 1; r < rounds; r++) round(r);
        var uncollected = MemorySnapshot.Take(collect: false);
        var after = MemorySnapshot.Take(collect: true);
        var report = $"{what}: live tensors {before.LiveTensors} before, {uncollected.LiveTensors} after (before GC), {after.LiveTensors} after GC; " +
                     $"RSS {before.ResidentMiB} MiB before, {settled.ResidentMiB} MiB after round 1 of {rounds}, {after.ResidentMiB} MiB after the last";
        Assert.True(uncollected.LiveTensors == before.LiveTensors, $"tensors left undisposed (before any GC): {report}");
        Assert.True(after.LiveTensors == before.LiveTensors, $"tensors still alive: {report}");
        Assert.True(after.ResidentBytes - settled.ResidentBytes <= ResidentGrowthLimitMiB << 20,
            $"resident memory grew by more than {ResidentGrowthLimitMiB} MiB after the first round: {report}");
        return report;
    }
}
