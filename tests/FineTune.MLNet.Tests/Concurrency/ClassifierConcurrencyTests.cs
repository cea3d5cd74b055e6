using FineTune.MLNet.Tests.Estimators;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace FineTune.MLNet.Tests.Concurrency;

/// <summary>
/// A fitted classifier serving 16 threads: per-thread PredictionEngines over one shared transformer, one engine behind
/// a lock, and Transform views read from many threads. Every answer must equal the sequential one (same label, scores
/// within 1e-6: the same shapes run the same kernels), nothing may throw, and the calls must leave no native tensor
/// alive and resident memory flat.
/// </summary>
public sealed class ClassifierConcurrencyTests(FittedClassifierFixture fixture, ITestOutputHelper output) : IClassFixture<FittedClassifierFixture>
{
    private const int Threads = 16;
    private const int CallsPerThread = 1000;
    private const int Rounds = 4;
    /// <summary>Behind a lock the calls run one at a time: fewer of them keep the test short.</summary>
    private const int LockedCallsPerThread = 250;
    private const double ScoreTolerance = 1e-6;

    public sealed class Prediction
    {
        public string PredictedText { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    /// <summary>Which of the fixture's rows call <paramref name="call"/> of thread <paramref name="thread"/> scores.</summary>
    private int RowOf(int thread, int call) => (thread * 7 + call * 5) % fixture.Rows.Count;

    [Fact]
    public void PerThreadEnginesOverOneTransformerAnswerAsSequentialUse()
    {
        var expected = SequentialPredictions();
        var tally = new Tally();
        var engines = new PredictionEngine<TinyClassifierData.Row, Prediction>?[Threads];   // one per thread, made on it
        var memory = NoLeak.Measure($"{Threads} threads x {CallsPerThread} predictions, one engine per thread", Threads, Rounds, (t, round) =>
        {
            var engine = engines[t] ??= Engine();
            for (var i = round * CallsPerThread / Rounds; i < (round + 1) * CallsPerThread / Rounds; i++)
            {
                var row = RowOf(t, i);
                tally.Compare(expected[row], engine.Predict(fixture.Rows[row]));
            }
            if (round == Rounds - 1) engine.Dispose();
        });
        Report(tally, memory);
        tally.AssertAllMatched(Threads * CallsPerThread);
    }

    [Fact]
    public void OneEngineUnderALockAnswersAsSequentialUse()
    {
        var expected = SequentialPredictions();
        var tally = new Tally();
        using var engine = Engine();
        var gate = new object();
        var memory = NoLeak.Measure($"{Threads} threads x {LockedCallsPerThread} predictions, one engine under a lock", Threads, Rounds, (t, round) =>
        {
            for (var i = round * LockedCallsPerThread / Rounds; i < (round + 1) * LockedCallsPerThread / Rounds; i++)
            {
                var row = RowOf(t, i);
                Prediction p;
                lock (gate) p = engine.Predict(fixture.Rows[row]);
                tally.Compare(expected[row], p);
            }
        });
        Report(tally, memory);
        tally.AssertAllMatched(Threads * LockedCallsPerThread);
    }

    [Fact]
    public void OneTransformerScoresManyViewsFromManyThreadsAsSequentially()
    {
        // Each thread scores its own ordering of the rows (so other batches) and, in turn, cursors over one shared view.
        var ml = fixture.Ml;
        var inputs = Enumerable.Range(0, Threads).Select(t => ml.Data.LoadFromEnumerable(
            Enumerable.Range(0, CallsPerThread).Select(i => fixture.Rows[RowOf(t, i)]).ToList())).ToList();
        var shared = fixture.Model.Transform(ml.Data.LoadFromEnumerable(fixture.Rows));
        var expectedOwn = inputs.Select(i => Scores(fixture.Model.Transform(i))).ToList();
        var expectedShared = Scores(shared);
        var tally = new Tally();
        const int passes = 3;
        var memory = NoLeak.Measure($"{Threads} threads x {passes} passes over {CallsPerThread} rows (own view) + {fixture.Rows.Count} rows (shared view)", Threads, passes, (t, _) =>
        {
            tally.CompareAll(expectedOwn[t], Scores(fixture.Model.Transform(inputs[t])));
            tally.CompareAll(expectedShared, Scores(shared));
        });
        Report(tally, memory);
        tally.AssertAllMatched(Threads * passes * (CallsPerThread + fixture.Rows.Count));
    }

    private PredictionEngine<TinyClassifierData.Row, Prediction> Engine() =>
        fixture.Ml.Model.CreatePredictionEngine<TinyClassifierData.Row, Prediction>(fixture.Model, new PredictionEngineOptions { OwnsTransformer = false });

    /// <summary>The answer for each fixture row from one engine on this thread.</summary>
    private Prediction[] SequentialPredictions()
    {
        using var engine = Engine();
        return [.. fixture.Rows.Select(engine.Predict)];
    }

    private static List<Prediction> Scores(IDataView scored)
    {
        var labels = scored.GetColumn<string>("PredictedText").ToList();
        var scores = scored.GetColumn<float[]>("Score").ToList();
        return [.. labels.Zip(scores, (l, s) => new Prediction { PredictedText = l, Score = s })];
    }

    private void Report(Tally tally, string memory) =>
        output.WriteLine($"{tally.Compared} answers compared, {tally.Mismatches} mismatches, max |score difference| {tally.MaxDifference:E2}; {memory}");

    /// <summary>Answers compared, those that differed (label, or a score beyond the tolerance) and the largest score difference.</summary>
    private sealed class Tally
    {
        private readonly object _gate = new();
        private string? _firstMismatch;

        public long Compared { get; private set; }
        public long Mismatches { get; private set; }
        public double MaxDifference { get; private set; }

        public void CompareAll(IReadOnlyList<Prediction> expected, IReadOnlyList<Prediction> actual)
        {
            Assert.Equal(expected.Count, actual.Count);
            for (var i = 0; i < expected.Count; i++) Compare(expected[i], actual[i]);
        }

        public void Compare(Prediction expected, Prediction actual)
        {
            var diff = expected.Score.Length == actual.Score.Length
                ? expected.Score.Zip(actual.Score, (e, a) => (double)Math.Abs(e - a)).Max()
                : double.PositiveInfinity;
            var same = expected.PredictedText == actual.PredictedText && diff <= ScoreTolerance;
            lock (_gate)
            {
                Compared++;
                MaxDifference = Math.Max(MaxDifference, diff);
                if (same) return;
                Mismatches++;
                _firstMismatch ??= $"expected {expected.PredictedText} [{string.Join(", ", expected.Score)}], got {actual.PredictedText} [{string.Join(", ", actual.Score)}]";
            }
        }

        public void AssertAllMatched(long expectedCount)
        {
            Assert.True(Compared == expectedCount, $"compared {Compared} answers, expected {expectedCount}");
            Assert.True(Mismatches == 0, $"{Mismatches} of {Compared} answers differ from sequential use; first: {_firstMismatch}");
        }
    }
}
