using System.Reflection;
using System.Text.Json;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.TestSupport;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Runs;
using Microsoft.ML;
using Xunit;

namespace FineTune.MLNet.Tests.Training.Runs;

public sealed class RunFolderEstimatorTests
{
    private sealed class Sink(Action<TrainingProgress> onReport) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => onReport(value);
    }

    private static TextClassificationFineTuneOptions Options(string model, string runDir) => new()
    {
        Model = model, Epochs = 2, BatchSize = 8, LearningRate = 5e-3, MaxLength = 32, WarmupRatio = 0.1, Seed = 7,
        RunFolder = new RunFolderSettings { Directory = runDir },
    };

    [Fact]
    public void ClassifierFitWritesConfigMetricsAndEventsThatAgree()
    {
        var ml = new MLContext(seed: 1);
        var train = TinyClassifierData.Load(ml, TinyClassifierData.Rows(24, 31));
        var valid = TinyClassifierData.Load(ml, TinyClassifierData.Rows(8, 32));
        var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var runDir = Path.Combine(TestTempRoot.NewFolder("run"), "run");
        var model = TinyClassifierData.ModelFolder();
        var reports = new List<TrainingProgress>();
        var pulled = new List<(double Step, double Total, double Loss, double Lr)>();
        var tracker = ProgressTracker(ml);
        var options = Options(model, runDir) with
        {
            Progress = new Sink(p =>
            {
                reports.Add(p);
                if (!p.IsValidation) pulled.AddRange(PulledEntries(tracker));   // ML.NET pulls the channel's current entry
            }),
        };
        var fitted = new TextClassificationFineTuneEstimator(ml, options, keys.Transform(valid)).Fit(keys.Transform(train));

        // config.json: resolved options, version, model and data fingerprints.
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "config.json")));
        var root = config.RootElement;
        Assert.Equal("FineTune.MLNet", root.GetProperty("library").GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("library").GetProperty("version").GetString()));
        Assert.Equal("TextClassificationFineTuneEstimator", root.GetProperty("estimator").GetString());
        var o = root.GetProperty("options");
        Assert.Equal(2, o.GetProperty("epochs").GetInt32());
        Assert.Equal(5e-3, o.GetProperty("learning_rate").GetDouble());
        Assert.Equal("Linear", o.GetProperty("decay").GetString());
        Assert.False(o.TryGetProperty("progress", out _));
        Assert.False(o.TryGetProperty("run_folder", out _));
        var sha = root.GetProperty("model").GetProperty("sha256");
        Assert.Equal(RunFingerprints.FileSha256(Path.Combine(model, "model.safetensors")), sha.GetProperty("model.safetensors").GetString());
        Assert.Equal(RunFingerprints.FileSha256(Path.Combine(model, "config.json")), sha.GetProperty("config.json").GetString());
        var data = root.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([("training", 24L), ("validation", 8L)], data.Select(d => (d.GetProperty("role").GetString()!, d.GetProperty("rows").GetInt64())));
        // The same rows hash the same, other rows differently.
        Assert.Equal(RunFingerprints.Data("x", keys.Transform(train), ["Text", "Label"]).Sha256, data[0].GetProperty("sha256").GetString());
        Assert.NotEqual(data[0].GetProperty("sha256").GetString(), data[1].GetProperty("sha256").GetString());

        // metrics.jsonl: one line per step (6 = 2 epochs x 3 batches) and per evaluation, the values the loop reported.
        var lines = RunFolderFiles.MetricsLines(runDir);
        var steps = lines.Where(l => l.GetProperty("type").GetString() == "train").ToList();
        var evals = lines.Where(l => l.GetProperty("type").GetString() == "eval").ToList();
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), steps.Select(l => l.GetProperty("step").GetInt64()));
        Assert.Equal([3L, 6L], evals.Select(l => l.GetProperty("step").GetInt64()));
        var trainReports = reports.Where(r => !r.IsValidation).ToList();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(trainReports[i].TrainLoss, steps[i].GetProperty("loss").GetDouble());
            Assert.Equal(trainReports[i].LearningRate, steps[i].GetProperty("learning_rate").GetDouble());
            Assert.True(steps[i].GetProperty("grad_norm").GetDouble() > 0);
            Assert.Equal(trainReports[i].GradNorm, steps[i].GetProperty("grad_norm").GetDouble());
            Assert.True(steps[i].GetProperty("elapsed_seconds").GetDouble() >= 0);
        }
        Assert.Equal(fitted.TrainingReport!.State.History.Select(h => h.ValidationLoss!.Value), evals.Select(e => e.GetProperty("validation_loss").GetDouble()));
        Assert.All(evals, e => Assert.InRange(e.GetProperty("accuracy").GetDouble(), 0, 1));

        // TensorBoard events: the same scalars (6 steps x 4 + 2 evals x 3 = 30 values).
        Assert.Single(RunFolderFiles.EventFiles(runDir));
        Assert.Equal(30, RunFolderFiles.AssertEventsEqualMetrics(runDir));

        // ML.NET's progress channel: the entries ML.NET pulled carried the step, total and loss of the last step.
        Assert.NotEmpty(pulled);
        foreach (var (step, total, loss, lr) in pulled)
        {
            var r = trainReports.Single(t => t.Step == (long)step);
            Assert.Equal((6.0, r.TrainLoss, r.LearningRate), (total, loss, lr));
        }
    }

    [Fact]
    public void ResumedRunContinuesMetricsWithoutDuplicatingSteps()
    {
        var ml = new MLContext(seed: 1);
        var train = TinyClassifierData.Load(ml, TinyClassifierData.Rows(24, 33));
        var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var keyed = keys.Transform(train);
        var folder = TestTempRoot.NewFolder("run-resume");
        var runDir = Path.Combine(folder, "run");
        var staged = Options(TinyClassifierData.ModelFolder(), runDir) with { CheckpointDirectory = Path.Combine(folder, "ckpt"), StopAfterSteps = 4 };
        var first = new TextClassificationFineTuneEstimator(ml, staged, null).Fit(keyed);
        Assert.Equal(4, first.TrainingReport!.State.GlobalStep);
        // A step written after the checkpoint (as by a kill) must be replaced, not duplicated.
        File.AppendAllText(Path.Combine(runDir, "metrics.jsonl"), "{\"type\":\"train\",\"step\":5,\"epoch\":2,\"loss\":99}\n{\"type\":\"tr");
        var resumed = new TextClassificationFineTuneEstimator(ml, staged with { StopAfterSteps = null }, null).Fit(keyed);
        Assert.True(resumed.TrainingReport!.Completed);

        var steps = RunFolderFiles.MetricsLines(runDir).Select(l => l.GetProperty("step").GetInt64()).ToList();
        Assert.Equal([1L, 2, 3, 4, 5, 6], steps);
        Assert.DoesNotContain(RunFolderFiles.MetricsLines(runDir), l => l.GetProperty("loss").GetDouble() == 99);
        var files = RunFolderFiles.EventFiles(runDir);
        Assert.Equal(2, files.Length);   // one per process start; the second marks the restart at step 4
        var restart = files.Select(TfRecordTestReader.ReadEvents).Single(e => e.Any(x => x.SessionStatus == 1));
        Assert.Equal(4, restart.Single(x => x.SessionStatus == 1).Step);
        Assert.Equal(6 * 4, RunFolderFiles.AssertEventsEqualMetrics(runDir));
    }

    /// <summary>ML.NET 5's MLContext keeps its progress channels in an internal ProgressTracker (what ML.NET's console
    /// environment polls); the test reads it the same way, through its GetAllProgress.</summary>
    private static object ProgressTracker(MLContext ml)
    {
        var env = typeof(MLContext).GetField("_env", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(ml)!;
        for (var t = env.GetType(); t is not null; t = t.BaseType)
        {
            const BindingFlags any = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly;
            if (t.GetProperty("ProgressTracker", any) is { } property) return property.GetValue(env)!;
            if (t.GetFields(any).FirstOrDefault(f => f.FieldType.Name == "ProgressTracker") is { } field) return field.GetValue(env)!;
        }
        throw new InvalidOperationException("ML.NET's environment has no ProgressTracker.");
    }

    private static IEnumerable<(double, double, double, double)> PulledEntries(object tracker)
    {
        var events = (System.Collections.IEnumerable)tracker.GetType().GetMethod("GetAllProgress")!.Invoke(tracker, null)!;
        foreach (var e in events)
        {
            var name = (string)e.GetType().GetField("Name")!.GetValue(e)!;
            var entry = e.GetType().GetField("ProgressEntry")!.GetValue(e);
            if (!name.StartsWith(nameof(TextClassificationFineTuneEstimator), StringComparison.Ordinal) || entry is null) continue;
            var progress = (double?[])entry.GetType().GetField("Progress")!.GetValue(entry)!;
            var limit = (double?[])entry.GetType().GetField("ProgressLim")!.GetValue(entry)!;
            var metrics = (double?[])entry.GetType().GetField("Metrics")!.GetValue(entry)!;
            if (progress[0] is null) continue;
            yield return (progress[0]!.Value, limit[0]!.Value, metrics[0]!.Value, metrics[1]!.Value);
        }
    }
}
