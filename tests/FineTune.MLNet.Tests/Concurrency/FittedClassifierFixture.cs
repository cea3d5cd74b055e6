using FineTune.MLNet.Estimators;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.TestSupport;
using FineTune.MLNet.Transformers;
using Microsoft.ML;

namespace FineTune.MLNet.Tests.Concurrency;

/// <summary>
/// One tiny fitted classification pipeline (MapValueToKey, the fine-tuned classifier, MapKeyToValue) shared by the
/// concurrency tests, its classifier saved to <see cref="SavedFolder"/>, and the rows they score.
/// </summary>
public sealed class FittedClassifierFixture : IDisposable
{
    public FittedClassifierFixture()
    {
        Ml = new MLContext(seed: 1);
        var options = new TextClassificationFineTuneOptions
        {
            Model = TinyClassifierData.ModelFolder(), Epochs = 2, BatchSize = 8, LearningRate = 5e-3, MaxLength = 32,
        };
        Model = Ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(Ml.MulticlassClassification.Trainers.FineTuneTextClassifier(options))
            .Append(Ml.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel"))
            .Fit(TinyClassifierData.Load(Ml, TinyClassifierData.Rows(60, 41)));
        SavedFolder = TestTempRoot.NewFolder("concurrency-classifier");
        ((IEnumerable<ITransformer>)Model).OfType<TextClassificationTransformer>().Single().Save(SavedFolder);
    }

    public MLContext Ml { get; }

    /// <summary>The fitted pipeline; never disposed by a test (engines over it are made with OwnsTransformer = false).</summary>
    public ITransformer Model { get; }

    /// <summary>The classifier alone (<see cref="TextClassificationTransformer.Save"/>), for tests that dispose what they load.</summary>
    public string SavedFolder { get; }

    /// <summary>48 distinct rows that the calls cycle through.</summary>
    internal IReadOnlyList<TinyClassifierData.Row> Rows { get; } = TinyClassifierData.Rows(48, 77);

    public void Dispose() => (Model as IDisposable)?.Dispose();
}
