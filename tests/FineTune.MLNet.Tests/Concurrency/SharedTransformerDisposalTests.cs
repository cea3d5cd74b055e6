using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using static FineTune.MLNet.Tests.TestSupport.Close;

namespace FineTune.MLNet.Tests.Concurrency;

/// <summary>
/// ML.NET's PredictionEngine disposes the transformer it was created from (PredictionEngineOptions.OwnsTransformer is
/// true by default): with one transformer shared by several engines, disposing one engine used to leave the others
/// running on freed weights. They now get an ObjectDisposedException naming the fix, and a disposal racing with
/// predictions in flight waits for them.
/// </summary>
public sealed class SharedTransformerDisposalTests(FittedClassifierFixture fixture) : IClassFixture<FittedClassifierFixture>
{
    public sealed class Prediction
    {
        public uint PredictedLabel { get; set; }
        public float[] Score { get; set; } = [];
    }

    [Fact]
    public void DisposingAnOwningEngineMakesTheOthersThrowNamingOwnsTransformer()
    {
        using var shared = TextClassificationTransformer.Load(fixture.SavedFolder);
        var owning = fixture.Ml.Model.CreatePredictionEngine<TinyClassifierData.Row, Prediction>(shared);
        using var other = fixture.Ml.Model.CreatePredictionEngine<TinyClassifierData.Row, Prediction>(shared, new PredictionEngineOptions { OwnsTransformer = false });
        Assert.Equal(3, other.Predict(fixture.Rows[0]).Score.Length);

        owning.Dispose();   // ML.NET disposes `shared` here

        var e = Assert.Throws<ObjectDisposedException>(() => other.Predict(fixture.Rows[0]));
        Assert.Contains("OwnsTransformer = false", e.Message);
        Assert.Contains("PredictionEngine", e.Message);
        var t = Assert.Throws<ObjectDisposedException>(() => shared.Transform(fixture.Ml.Data.LoadFromEnumerable(fixture.Rows)));
        Assert.Contains("OwnsTransformer = false", t.Message);
    }

    [Fact]
    public void EnginesThatDoNotOwnTheTransformerLeaveItUsable()
    {
        using var shared = TextClassificationTransformer.Load(fixture.SavedFolder);
        var options = new PredictionEngineOptions { OwnsTransformer = false };
        var first = fixture.Ml.Model.CreatePredictionEngine<TinyClassifierData.Row, Prediction>(shared, options);
        using var second = fixture.Ml.Model.CreatePredictionEngine<TinyClassifierData.Row, Prediction>(shared, options);
        var before = second.Predict(fixture.Rows[1]).Score;
        first.Dispose();
        Assert.Equal(before, second.Predict(fixture.Rows[1]).Score);
    }

    [Fact]
    public void DisposingWhileThreadsPredictWaitsForThemAndThenRefusesClearly()
    {
        var shared = TextClassificationTransformer.Load(fixture.SavedFolder);
        const int threads = 8;
        int succeeded = 0, refused = 0, running = 0;
        using var started = new CountdownEvent(threads);
        var errors = new List<Exception>();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            using var engine = fixture.Ml.Model.CreatePredictionEngine<TinyClassifierData.Row, Prediction>(shared, new PredictionEngineOptions { OwnsTransformer = false });
            Interlocked.Increment(ref running);
            started.Signal();
            for (var i = 0; ; i++)   // until the disposal refuses a call
            {
                try
                {
                    var p = engine.Predict(fixture.Rows[(t + i) % fixture.Rows.Count]);
                    AssertClose(1, p.Score.Sum(), atol: 1e-4, what: "sum of the class probabilities");
                    Interlocked.Increment(ref succeeded);
                }
                catch (ObjectDisposedException e) when (e.Message.Contains("OwnsTransformer = false", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref refused);
                    return;
                }
                catch (Exception e)
                {
                    lock (errors) errors.Add(e);
                    return;
                }
            }
        })).ToList();
        foreach (var w in workers) w.Start();
        started.Wait();
        while (Volatile.Read(ref succeeded) < 4 * threads) Thread.Yield();   // every thread is predicting by now
        shared.Dispose();
        foreach (var w in workers) w.Join();

        Assert.Empty(errors);
        Assert.Equal(threads, Volatile.Read(ref running));
        Assert.Equal(threads, refused);   // each thread ended on the clear refusal, none on a crash or another exception
        Assert.True(succeeded >= 4 * threads);
    }
}
