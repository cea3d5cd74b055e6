using Xunit;

namespace FineTune.MLNet.Tests.Concurrency;

/// <summary>
/// Runs a workload on a set of threads in equal rounds (<see cref="ParallelCalls"/>) and fails when a call threw, when
/// native tensors were left alive or when resident memory kept growing. The live tensor count must be back where it was
/// after the first round (a warm-up: lazily built caches are in place by then) or lower, both before a collection
/// (nothing left for the finalizer to clean up) and after one; lower, because tensors that an earlier test left to the
/// finalizer may go while this one runs (seen in the full suite: 41 fewer), while a leak of one tensor per call after the
/// first round adds thousands. RSS
/// (read after a collection and a <c>malloc_trim</c>, see <see cref="MemorySnapshot.Take"/>) is compared from the end of
/// the first round (GC segments, allocator arenas and libtorch's per-thread state are in place by then) to the end of
/// the last: it may grow by at most <see cref="ResidentGrowthLimitMiB"/>, while a leak of a few hundred bytes per call
/// over the 12,000 calls after the first round would already pass neither this nor the tensor check.
/// </summary>
internal static class NoLeak
{
    public const long ResidentGrowthLimitMiB = 32;

    /// <summary>Runs <paramref name="call"/>(thread, round) as above, asserts, and returns the figures as one line.</summary>
    public static string Measure(string what, int threads, int rounds, Action<int, int> call)
    {
        if (rounds < 2) throw new ArgumentOutOfRangeException(nameof(rounds), "the RSS check needs at least 2 rounds");
        var before = MemorySnapshot.Take(collect: true);
        var settled = before;
        var errors = ParallelCalls.Run(threads, rounds, call, afterRound: r =>
        {
            if (r == 0) settled = MemorySnapshot.Take(collect: true);
        });
        Assert.True(errors.Count == 0, $"{what}: {errors.Count} calls threw; first: {errors.FirstOrDefault()}");
        var uncollected = MemorySnapshot.Take(collect: false);
        var after = MemorySnapshot.Take(collect: true);
        var report = $"{what}: live tensors {before.LiveTensors} before, {settled.LiveTensors} after round 1, {uncollected.LiveTensors} after (before GC), {after.LiveTensors} after GC; " +
                     $"RSS {before.ResidentMiB} MiB before, {settled.ResidentMiB} MiB after round 1 of {rounds}, {after.ResidentMiB} MiB after the last";
        Assert.True(uncollected.LiveTensors <= settled.LiveTensors, $"tensors left undisposed (before any GC): {report}");
        Assert.True(after.LiveTensors <= settled.LiveTensors, $"tensors still alive: {report}");
        Assert.True(after.ResidentBytes - settled.ResidentBytes <= ResidentGrowthLimitMiB << 20,
            $"resident memory grew by more than {ResidentGrowthLimitMiB} MiB after the first round: {report}");
        return report;
    }
}
