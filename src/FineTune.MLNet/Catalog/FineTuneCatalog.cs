using System.Reflection;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace FineTune.MLNet;

/// <summary>ML.NET catalog entry points of FineTune.MLNet.</summary>
public static class FineTuneCatalog
{
    /// <summary>
    /// Fine-tunes a pretrained BERT-family encoder to classify text. Input: <paramref name="textColumnName"/> (String),
    /// optional <paramref name="secondTextColumnName"/>, key-typed <paramref name="labelColumnName"/>. Output: <c>Score</c>
    /// (class probabilities) and <c>PredictedLabel</c> (key).
    /// </summary>
    /// <param name="model"><c>minilm</c> (bundled all-MiniLM-L6-v2) or a Hugging Face BERT/DistilBERT folder.</param>
    /// <param name="loraRank">LoRA rank on the encoder's query/value projections; null = full fine-tuning.</param>
    public static TextClassificationFineTuneEstimator FineTuneTextClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label",
        string textColumnName = "Text",
        string? secondTextColumnName = null,
        string model = "minilm",
        int epochs = 3,
        int batchSize = 16,
        double learningRate = 5e-5,
        int maxLength = 128,
        int? loraRank = null,
        int seed = 42,
        IDataView? validationSet = null)
    {
        var options = new TextClassificationFineTuneOptions
        {
            LabelColumnName = labelColumnName,
            TextColumnName = textColumnName,
            SecondTextColumnName = secondTextColumnName,
            Model = model,
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
            MaxLength = maxLength,
            Lora = loraRank is { } r ? new LoraSettings { Rank = r, Alpha = 2 * r } : null,
            Seed = seed,
        };
        return catalog.FineTuneTextClassifier(options, validationSet);
    }

    /// <summary>Fine-tunes a text classifier with full <see cref="TextClassificationFineTuneOptions"/>.</summary>
    public static TextClassificationFineTuneEstimator FineTuneTextClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        TextClassificationFineTuneOptions options,
        IDataView? validationSet = null) =>
        new(EnvironmentOf(catalog), options, validationSet);

    /// <summary>The catalog's ML.NET environment (internal in ML.NET), so training logs reach <c>mlContext.Log</c>.</summary>
    private static IChannelProvider EnvironmentOf(object catalog)
    {
        var property = catalog.GetType().GetProperty("Environment", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
        return property?.GetValue(catalog) as IChannelProvider ?? new MLContext();
    }
}
