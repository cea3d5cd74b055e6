using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Estimators;

public sealed class TextClassificationEstimatorTests
{
    private static TextClassificationFineTuneOptions Options(string model) => new()
    {
        Model = model, Epochs = 4, BatchSize = 8, LearningRate = 5e-3, MaxLength = 32, WarmupRatio = 0.1, Seed = 7,
    };

    [Fact]
    public void FitsAndEvaluatesWithStockMlNetEvaluator()
    {
        var ml = new MLContext(seed: 1);
        var model = TinyClassifierData.ModelFolder();
        var train = TinyClassifierData.Load(ml, TinyClassifierData.Rows(120, 1));
        var test = TinyClassifierData.Load(ml, TinyClassifierData.Rows(60, 2));
        var logs = new List<string>();
        ml.Log += (_, e) => { lock (logs) logs.Add(e.Message); };

        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.FineTuneTextClassifier(Options(model) with { Epochs = 12 }));
        var fitted = pipeline.Fit(train);
        var scored = fitted.Transform(test);

        var score = scored.Schema["Score"];
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 3), score.Type);
        var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
        score.GetSlotNames(ref slotNames);
        Assert.Equal(TinyClassifierData.Labels, slotNames.DenseValues().Select(v => v.ToString()));
        Assert.IsType<KeyDataViewType>(scored.Schema["PredictedLabel"].Type);

        var metrics = ml.MulticlassClassification.Evaluate(scored, "Label");
        Assert.True(metrics.MicroAccuracy > 0.9, $"micro-accuracy {metrics.MicroAccuracy}");
        Assert.Contains(logs, l => l.Contains("Fine-tuning"));

        var probabilities = scored.GetColumn<float[]>("Score").ToList();
        Assert.NotEmpty(probabilities);
        Assert.All(probabilities, p => AssertClose(1.0, p.Sum(), atol: 1e-5, what: "sum of a row's float32 probabilities"));
        var named = ml.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel").Fit(scored).Transform(scored);
        Assert.Subset(TinyClassifierData.Labels.ToHashSet(), named.GetColumn<string>("PredictedText").ToHashSet());
    }

    [Fact]
    public void SavedModelReloadsWithIdenticalPredictions()
    {
        var ml = new MLContext(seed: 1);
        var model = TinyClassifierData.ModelFolder();
        var train = TinyClassifierData.Load(ml, TinyClassifierData.Rows(60, 3));
        var test = TinyClassifierData.Load(ml, TinyClassifierData.Rows(30, 4));
        var fitted = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.FineTuneTextClassifier(Options(model) with { Epochs = 1, Lora = new LoraSettings { Rank = 4 } }))
            .Fit(train);
        var before = fitted.Transform(test).GetColumn<float[]>("Score").ToArray();

        using var dirTemp = new TempDir("pipeline");
        var dir = Path.Combine(dirTemp.Path, "pipeline");
        FineTunePipeline.Save(ml, fitted, train.Schema, dir);
        var reloaded = FineTunePipeline.Load(ml, dir);
        var after = reloaded.Transform(test).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(before.Length, after.Length);
        // Saving merges LoRA (W + s·BA, rounded to float32 once): ~1e-7 changes (measured 7.5e-8), far below a wrong merge's ~1e-2.
        Assert.NotEmpty(before);
        for (var i = 0; i < before.Length; i++) AssertAllClose(before[i], after[i], atol: 1e-5, what: $"Score of test row {i} after reload");

        // The saved classifier folder is a plain HF checkpoint: no LoRA tensors left, merged weights instead.
        var classifierDir = Directory.GetDirectories(dir).Single(d => d.EndsWith("text-classifier"));
        var keys = SafeTensorsFile.ReadHeader(Path.Combine(classifierDir, "model.safetensors")).Keys;
        Assert.DoesNotContain(keys, k => k.Contains("lora_"));
        Assert.Contains("classifier.weight", keys);
    }

    [Fact]
    public void MlNetModelSaveExplainsTheAlternative()
    {
        var ml = new MLContext(seed: 1);
        var train = TinyClassifierData.Load(ml, TinyClassifierData.Rows(24, 5));
        var fitted = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.FineTuneTextClassifier(Options(TinyClassifierData.ModelFolder()) with { Epochs = 1 }))
            .Fit(train);
        using var saveTemp = new TempDir("mlnet-save");
        var e = Assert.ThrowsAny<Exception>(() => ml.Model.Save(fitted, train.Schema, saveTemp.File("model.zip")));
        var all = e.ToString();
        Assert.Contains("FineTunePipeline.Save", all);
    }

    [Fact]
    public void LoraTrainsOnlyAdaptersAndHead()
    {
        var ml = new MLContext(seed: 1);
        var model = TinyClassifierData.ModelFolder();
        var train = TinyClassifierData.Load(ml, TinyClassifierData.Rows(48, 6));
        var fitted = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.FineTuneTextClassifier(Options(model) with { Epochs = 1, Lora = new LoraSettings { Rank = 4, TargetModules = ["query", "value"] } }))
            .Fit(train);
        var net = fitted.LastTransformer.Classifier.Model;
        var trainable = net.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.All(trainable, n => Assert.True(n.Contains(".lora_") || n.StartsWith("classifier.") || n.StartsWith("bert.pooler."), n));
        Assert.Contains(trainable, n => n.EndsWith("attention.self.query.lora_A.weight"));
        Assert.DoesNotContain(trainable, n => n.Contains("key.lora_"));

        // Frozen base weights are exactly the checkpoint's.
        var original = SafeTensorsFile.Load(Path.Combine(model, "model.safetensors"));
        var key = "bert.encoder.layer.0.attention.self.query.weight";
        var now = net.named_parameters().Single(p => p.name == key).parameter;
        Assert.True(original[key].eq(now.detach().cpu()).all().item<bool>());
    }

    [Fact]
    public void StoppingAndResumingGivesTheSameWeightsAsOneRun()
    {
        var ml = new MLContext(seed: 1);
        var model = TinyClassifierData.ModelFolder();
        var train = TinyClassifierData.Load(ml, TinyClassifierData.Rows(40, 7));
        var valid = TinyClassifierData.Load(ml, TinyClassifierData.Rows(12, 8));
        var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var trainKeyed = keys.Transform(train);
        var validKeyed = keys.Transform(valid);
        var baseOptions = Options(model) with { Epochs = 2, BatchSize = 8, GradientAccumulationSteps = 2, EarlyStoppingPatience = 5 };

        var oneGo = new TextClassificationFineTuneEstimator(ml, baseOptions, validKeyed).Fit(trainKeyed);

        using var ckptTemp = new TempDir("ckpt");
        var ckpt = Path.Combine(ckptTemp.Path, "ckpt");
        var staged = baseOptions with { CheckpointDirectory = ckpt, StopAfterSteps = 2 };
        var first = new TextClassificationFineTuneEstimator(ml, staged, validKeyed).Fit(trainKeyed);
        Assert.False(first.TrainingReport!.Completed);
        Assert.Equal(2, first.TrainingReport.State.GlobalStep);
        var resumed = new TextClassificationFineTuneEstimator(ml, staged with { StopAfterSteps = null }, validKeyed).Fit(trainKeyed);
        Assert.True(resumed.TrainingReport!.Completed);
        Assert.Equal(oneGo.TrainingReport!.State.GlobalStep, resumed.TrainingReport.State.GlobalStep);

        var a = oneGo.Classifier.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in resumed.Classifier.Model.named_parameters())
        {
            var diff = (a[name] - p).abs().max().item<float>();
            Assert.True(diff == 0, $"{name} differs by {diff}");
        }
        Assert.Empty(Directory.GetDirectories(ckpt, ".tmp-*"));
    }

    [Fact]
    public void EarlyStoppingStopsOncePatienceRunsOut()
    {
        var ml = new MLContext(seed: 1);
        var train = TinyClassifierData.Load(ml, TinyClassifierData.Rows(30, 9));
        var valid = TinyClassifierData.Load(ml, TinyClassifierData.Rows(9, 10));
        var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var progress = new List<FineTune.MLNet.Training.TrainingProgress>();
        var logs = new List<string>();
        ml.Log += (_, e) => { lock (logs) logs.Add(e.Message); };
        // A learning rate of 1e-30 moves no float32 weight (each AdamW step is ~1e-30, below every weight's ulp), so the
        // validation loss is bit-identical every epoch: epoch 1 sets the best, epochs 2 and 3 do not improve on it, and
        // with patience 2 training must stop after epoch 3 of 6, on any machine.
        var options = Options(TinyClassifierData.ModelFolder()) with
        {
            Epochs = 6, LearningRate = 1e-30, WarmupRatio = 0, WeightDecay = 0, EarlyStoppingPatience = 2, Progress = new SyncProgress(progress),
        };
        var fitted = new TextClassificationFineTuneEstimator(ml, options, keys.Transform(valid)).Fit(keys.Transform(train));
        var state = fitted.TrainingReport!.State;
        Assert.True(state.StoppedEarly);
        Assert.Equal(3, state.History.Count);
        Assert.Equal(3, progress.Count(p => p.IsValidation));
        Assert.All(state.History, h => Assert.Equal(state.History[0].ValidationLoss, h.ValidationLoss));
        Assert.NotNull(state.BestValidationLoss);
        Assert.Equal(state.History[0].ValidationLoss, state.BestValidationLoss);
        Assert.Contains(logs, l => l.Contains("Early stopping after epoch 3"));
    }

    [Fact]
    public void CancellationStopsTraining()
    {
        var ml = new MLContext(seed: 1);
        var train = TinyClassifierData.Load(ml, TinyClassifierData.Rows(30, 11));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var estimator = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.FineTuneTextClassifier(Options(TinyClassifierData.ModelFolder()) with { CancellationToken = cts.Token }));
        Assert.ThrowsAny<OperationCanceledException>(() => estimator.Fit(train));
    }

    private sealed class SyncProgress(List<FineTune.MLNet.Training.TrainingProgress> sink) : IProgress<FineTune.MLNet.Training.TrainingProgress>
    {
        public void Report(FineTune.MLNet.Training.TrainingProgress value) => sink.Add(value);
    }
}
