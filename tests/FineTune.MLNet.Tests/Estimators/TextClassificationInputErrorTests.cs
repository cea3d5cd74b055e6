using FineTune.MLNet.Estimators;
using Microsoft.ML;
using Xunit;

namespace FineTune.MLNet.Tests.Estimators;

/// <summary>Bad input gets an error naming the column (or option) and what was expected.</summary>
public sealed class TextClassificationInputErrorTests
{
    private static readonly MLContext Ml = new(seed: 1);

    private static TextClassificationFineTuneOptions Options() => new() { Model = TinyClassifierData.ModelFolder(), Epochs = 1, BatchSize = 4, MaxLength = 16 };

    private sealed class NumberRow { public float Text { get; set; } public string Label { get; set; } = "a"; }

    [Fact]
    public void MissingTextColumnIsNamed()
    {
        var data = TinyClassifierData.Load(Ml, TinyClassifierData.Rows(6, 1));
        var e = Assert.ThrowsAny<ArgumentException>(() => Ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(Ml.MulticlassClassification.Trainers.FineTuneTextClassifier(Options() with { TextColumnName = "Review" })).Fit(data));
        Assert.Contains("'Review'", e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void MistypedTextColumnIsNamed()
    {
        var data = Ml.Data.LoadFromEnumerable([new NumberRow { Text = 1 }, new NumberRow { Text = 2, Label = "b" }]);
        var e = Assert.ThrowsAny<ArgumentException>(() => Ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(Ml.MulticlassClassification.Trainers.FineTuneTextClassifier(Options())).Fit(data));
        Assert.Contains("'Text'", e.Message);
        Assert.Contains("String", e.Message);
    }

    [Fact]
    public void NonKeyLabelIsExplained()
    {
        var data = TinyClassifierData.Load(Ml, TinyClassifierData.Rows(6, 1));
        var e = Assert.ThrowsAny<ArgumentException>(() => new TextClassificationFineTuneEstimator(Ml, Options()).Fit(data));
        Assert.Contains("MapValueToKey", e.Message);
        Assert.Contains("'Label'", e.Message);
    }

    [Fact]
    public void EmptyTextNamesColumnAndRow()
    {
        var rows = TinyClassifierData.Rows(6, 1);
        rows[4].Text = "   ";
        var e = Assert.ThrowsAny<InvalidDataException>(() => Ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(Ml.MulticlassClassification.Trainers.FineTuneTextClassifier(Options())).Fit(TinyClassifierData.Load(Ml, rows)));
        Assert.Contains("row 4", e.Message);
        Assert.Contains("'Text'", e.Message);
    }

    [Fact]
    public void EmptyDataIsRejected()
    {
        var data = TinyClassifierData.Load(Ml, TinyClassifierData.Rows(6, 1));
        var empty = Ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(TinyClassifierData.Load(Ml, []));
        var e = Assert.ThrowsAny<InvalidDataException>(() => new TextClassificationFineTuneEstimator(Ml, Options()).Fit(empty));
        Assert.Contains("no rows", e.Message);
    }

    [Fact]
    public void EmptyTrainingDataSaysSoBeforeTheClassCount()
    {
        // MapValueToKey fitted on no rows gives a one-value key: the class-count check must not be the first complaint.
        var empty = TinyClassifierData.Load(Ml, []);
        var e = Assert.ThrowsAny<InvalidDataException>(() => Ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(Ml.MulticlassClassification.Trainers.FineTuneTextClassifier(Options())).Fit(empty));
        Assert.Equal("training data has no rows; at least one is required.", e.Message);
    }

    [Fact]
    public void LabelUnseenInTrainingIsReported()
    {
        var train = TinyClassifierData.Load(Ml, TinyClassifierData.Rows(6, 1));
        var keys = Ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var validRows = TinyClassifierData.Rows(3, 2);
        validRows[1].Label = "Sarcastic";
        var e = Assert.ThrowsAny<InvalidDataException>(() =>
            new TextClassificationFineTuneEstimator(Ml, Options(), keys.Transform(TinyClassifierData.Load(Ml, validRows))).Fit(keys.Transform(train)));
        Assert.Contains("unseen in training", e.Message);
        Assert.Contains("1 of 3 row(s)", e.Message);
        Assert.Contains("the first is row 1", e.Message);
    }

    [Theory]
    [InlineData("Epochs", 0)]
    [InlineData("BatchSize", 0)]
    [InlineData("MaxLength", 4)]
    [InlineData("LearningRate", -1)]
    [InlineData("WarmupRatio", 1.5)]
    public void InvalidOptionsNameTheField(string field, double value)
    {
        var o = Options();
        o = field switch
        {
            "Epochs" => o with { Epochs = (int)value },
            "BatchSize" => o with { BatchSize = (int)value },
            "MaxLength" => o with { MaxLength = (int)value },
            "LearningRate" => o with { LearningRate = value },
            _ => o with { WarmupRatio = value },
        };
        var e = Assert.ThrowsAny<ArgumentException>(() => new TextClassificationFineTuneEstimator(Ml, o));
        Assert.Equal(field, e.ParamName);
    }

    [Fact]
    public void UnknownModelIsExplained()
    {
        var data = TinyClassifierData.Load(Ml, TinyClassifierData.Rows(6, 1));
        var e = Assert.ThrowsAny<Exception>(() => Ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(Ml.MulticlassClassification.Trainers.FineTuneTextClassifier(Options() with { Model = "/nonexistent/model" })).Fit(data));
        Assert.Contains("/nonexistent/model", e.Message);
    }
}
