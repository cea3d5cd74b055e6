using static FineTune.MLNet.Tests.TestSupport.Close;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FineTune.MLNet.Tests.Estimators;

public sealed class BinaryClassificationTests
{
    private sealed class Row { public string Text { get; set; } = ""; public bool Label { get; set; } }

    [Fact]
    public void BooleanLabelGivesOutputsTheBinaryEvaluatorAccepts()
    {
        var ml = new MLContext(seed: 1);
        var rows = TinyClassifierData.Rows(90, 3).Where(r => r.Label != "Neutral").Select(r => new Row { Text = r.Text, Label = r.Label == "Positive" }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new FineTune.MLNet.Estimators.TextClassificationFineTuneOptions
        {
            Model = TinyClassifierData.ModelFolder(), Epochs = 10, BatchSize = 8, LearningRate = 5e-3, MaxLength = 32,
        };
        var model = ml.MulticlassClassification.Trainers.FineTuneTextClassifier(options).Fit(data);
        var scored = model.Transform(data);
        var metrics = ml.BinaryClassification.Evaluate(scored, "Label");
        Assert.True(metrics.Accuracy > 0.9, $"accuracy {metrics.Accuracy}");
        Assert.True(metrics.AreaUnderRocCurve > 0.9, $"AUC {metrics.AreaUnderRocCurve}");
        var p = scored.GetColumn<float>("Probability").ToArray();
        var s = scored.GetColumn<float>("Score").ToArray();
        // Probability = sigmoid(Score). Compared in probability space: the logit of a float32 p near 1 is ill-conditioned.
        Assert.NotEmpty(p);
        for (var i = 0; i < p.Length; i++) AssertClose(1 / (1 + Math.Exp(-s[i])), p[i], atol: 1e-6, what: $"Probability of row {i}");
    }
}
