using System.Collections.Concurrent;

namespace FineTune.MLNet.Tests.Concurrency;

/// <summary>
/// Runs a body on dedicated threads that start together (a barrier, so they overlap for real) and collects what each
/// thread threw instead of letting it tear the test host down.
/// </summary>
internal static class ParallelCalls
{
    /// <summary>Runs <paramref name="body"/>(thread index) on <paramref name="threads"/> threads; returns every exception thrown.</summary>
    public static IReadOnlyList<Exception> Run(int threads, Action<int> body)
    {
        var errors = new ConcurrentQueue<Exception>();
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                body(t);
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        }) { IsBackground = true, Name = $"concurrency-{t}" }).ToList();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        return [.. errors];
    }
}
