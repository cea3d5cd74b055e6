using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FineTune.MLNet.Tests.Estimators;

public sealed class SentencePairTests
{
    private sealed class PairRow { public string Premise { get; set; } = ""; public string Hypothesis { get; set; } = ""; public string Label { get; set; } = ""; }

    [Fact]
    public void SecondTextColumnIsEncodedAsThePair()
    {
        var ml = new MLContext(seed: 1);
        // The label depends only on the second text: the model must read it.
        var rows = TinyClassifierData.Rows(96, 31).Select((r, i) => new PairRow
        {
            Premise = TinyClassifierData.Rows(96, 32)[i].Text,
            Hypothesis = r.Text,
            Label = r.Label,
        }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new FineTune.MLNet.Estimators.TextClassificationFineTuneOptions
        {
            Model = TinyClassifierData.ModelFolder(), TextColumnName = "Premise", SecondTextColumnName = "Hypothesis",
            Epochs = 12, BatchSize = 8, LearningRate = 5e-3, MaxLength = 48, Seed = 3,
        };
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.FineTuneTextClassifier(options)).Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data), "Label");
        Assert.True(metrics.MicroAccuracy > 0.85, $"accuracy {metrics.MicroAccuracy}");
    }
}
