using System.Collections.Concurrent;

namespace FineTune.MLNet.Tests.Concurrency;

/// <summary>
/// Runs a body on dedicated threads in rounds: the threads start each round together (a barrier, so they overlap for
/// real), and between rounds, with every thread parked at the barrier, a callback may measure. The same threads serve
/// every round, as a server's thread pool would. What a thread throws is collected instead of tearing the test host down.
/// </summary>
internal static class ParallelCalls
{
    /// <summary>Runs <paramref name="body"/>(thread, round) on <paramref name="threads"/> threads; returns every exception thrown.</summary>
    public static IReadOnlyList<Exception> Run(int threads, int rounds, Action<int, int> body, Action<int>? afterRound = null)
    {
        var errors = new ConcurrentQueue<Exception>();
        var finished = -1;
        using var barrier = new Barrier(threads, _ =>
        {
            // Runs on one thread each time all have arrived: at the start of round 0 and after each round.
            if (finished >= 0) afterRound?.Invoke(finished);
            finished++;
        });
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            barrier.SignalAndWait();
            for (var r = 0; r < rounds; r++)
            {
                try
                {
                    body(t, r);
                }
                catch (Exception e)
                {
                    errors.Enqueue(e);
                }
                barrier.SignalAndWait();
            }
        }) { IsBackground = true, Name = $"concurrency-{t}" }).ToList();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        return [.. errors];
    }
}
