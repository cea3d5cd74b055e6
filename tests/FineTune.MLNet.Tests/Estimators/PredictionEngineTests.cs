using static FineTune.MLNet.Tests.TestSupport.Close;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FineTune.MLNet.Tests.Estimators;

public sealed class PredictionEngineTests
{
    private sealed class Prediction
    {
        public string PredictedText { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    [Fact]
    public void PredictionEngineMatchesBatchedTransform()
    {
        var ml = new MLContext(seed: 1);
        var train = TinyClassifierData.Load(ml, TinyClassifierData.Rows(60, 41));
        var options = new FineTune.MLNet.Estimators.TextClassificationFineTuneOptions
        {
            Model = TinyClassifierData.ModelFolder(), Epochs = 3, BatchSize = 8, LearningRate = 5e-3, MaxLength = 32,
        };
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.FineTuneTextClassifier(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel"))
            .Fit(train);
        var rows = TinyClassifierData.Rows(12, 42);
        var batched = model.Transform(TinyClassifierData.Load(ml, rows));
        var batchedScores = batched.GetColumn<float[]>("Score").ToArray();
        var batchedLabels = batched.GetColumn<string>("PredictedText").ToArray();

        var engine = ml.Model.CreatePredictionEngine<TinyClassifierData.Row, Prediction>(model);
        for (var i = 0; i < rows.Count; i++)
        {
            var p = engine.Predict(rows[i]);
            Assert.Equal(batchedLabels[i], p.PredictedText);
            // One row alone vs in a padded, length-sorted batch: same math, other matmul shapes (float32 rounding only).
            AssertAllClose(batchedScores[i], p.Score, atol: 1e-5, what: $"Score of row {i}");
        }
    }
}
