using FineTune.MLNet.Classification;
using FineTune.MLNet.Data;
using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// A fitted text classifier. <see cref="Transform"/> appends <c>Score</c> (float vector of class probabilities, with slot
/// names) and <c>PredictedLabel</c> (key with the label names as key values), scored in batches; the output works with
/// <c>mlContext.MulticlassClassification.Evaluate</c> and <c>MapKeyToValue</c> unchanged.
/// Saving: <c>mlContext.Model.Save</c> cannot carry a transformer from an outside assembly (ML.NET's loader registry is
/// internal); use <see cref="Save"/>/<see cref="Load"/> or <see cref="FineTunePipeline"/> for whole pipelines.
/// Thread-safe: one transformer may serve many threads (<see cref="Transform"/> views, one PredictionEngine per thread).
/// A PredictionEngine disposes the transformer it was made from when it is disposed, unless it was created with
/// <c>new PredictionEngineOptions { OwnsTransformer = false }</c>; calls after that throw an
/// <see cref="ObjectDisposedException"/> saying so.
/// </summary>
public sealed class TextClassificationTransformer : ITransformer, IDisposable
{
    internal TextClassificationTransformer(FineTunedTextClassifier classifier, ColumnNames columns, TrainingReport? report)
    {
        Classifier = classifier;
        Columns = columns;
        TrainingReport = report;
    }

    /// <summary>The fine-tuned model, tokenizer and labels.</summary>
    public FineTunedTextClassifier Classifier { get; }

    /// <summary>Column names this transformer reads and writes.</summary>
    public ColumnNames Columns { get; }

    /// <summary>How training went (null after <see cref="Load"/>).</summary>
    public TrainingReport? TrainingReport { get; }

    /// <summary>True: <c>CreatePredictionEngine</c> works (one forward pass per row); <see cref="Transform"/> batches.</summary>
    public bool IsRowToRowMapper => true;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        TextColumns.Check(inputSchema, Columns.Text, "Text");
        if (Columns.Pair is not null) TextColumns.Check(inputSchema, Columns.Pair, "SecondText");
        return Columns.Binary
            ? ClassifierOutputSchema.Binary(inputSchema, Columns.Score, Columns.Probability, Columns.PredictedLabel)
            : ClassifierOutputSchema.Multiclass(inputSchema, Classifier.Labels, Columns.Score, Columns.PredictedLabel);
    }

    public IDataView Transform(IDataView input)
    {
        Classifier.ThrowIfDisposed();
        GetOutputSchema(input.Schema);
        return new ScoredTextDataView(input, Classifier, Columns.Text, Columns.Pair, Columns.Score, Columns.PredictedLabel, Columns.InferenceBatchSize,
            Columns.Binary ? Columns.Probability : null);
    }

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        Classifier.ThrowIfDisposed();
        GetOutputSchema(inputSchema);
        return new ClassifierRowMapper(this, inputSchema);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("mlContext.Model.Save cannot store a FineTune.MLNet transformer (ML.NET's model loader registry is internal to ML.NET). Use TextClassificationTransformer.Save(directory) or FineTunePipeline.Save(...).");

    /// <summary>Saves the model folder (HF-compatible weights, tokenizer, labels) plus the column names.</summary>
    public void Save(string directory)
    {
        Classifier.Save(directory);
        AtomicFile.Write(Path.Combine(directory, ColumnNames.FileName), s => System.Text.Json.JsonSerializer.Serialize(s, Columns));
    }

    /// <summary>Writes the fine-tuned model as an ONNX file (see <see cref="FineTunedTextClassifier.ExportOnnx"/>).</summary>
    public void ExportOnnx(string path, BertOnnxExportOptions? options = null) => Classifier.ExportOnnx(path, options);

    /// <summary>Loads a folder written by <see cref="Save"/>.</summary>
    public static TextClassificationTransformer Load(string directory, string device = "cpu")
    {
        var columnsPath = Path.Combine(directory, ColumnNames.FileName);
        var columns = File.Exists(columnsPath)
            ? System.Text.Json.JsonSerializer.Deserialize<ColumnNames>(File.ReadAllText(columnsPath)) ?? throw new InvalidDataException($"{columnsPath} is empty.")
            : new ColumnNames("Text", null, "Score", "PredictedLabel", 64);
        return new TextClassificationTransformer(FineTunedTextClassifier.Load(directory, device), columns, null);
    }

    public void Dispose() => Classifier.Dispose();

    /// <summary>Name of the probability column of binary tasks.</summary>
    internal const string ProbabilityColumnName = "Probability";

    /// <summary>Input and output column names; <paramref name="Binary"/> = Boolean-label task with binary outputs.</summary>
    public sealed record ColumnNames(string Text, string? Pair, string Score, string PredictedLabel, int InferenceBatchSize,
        bool Binary = false, string Probability = ProbabilityColumnName)
    {
        internal const string FileName = "mlnet_columns.json";
    }
}
