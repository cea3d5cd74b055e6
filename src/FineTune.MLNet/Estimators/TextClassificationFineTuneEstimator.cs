using FineTune.MLNet.Classification;
using FineTune.MLNet.Data;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Runs;
using FineTune.MLNet.Training.Tasks.Classification;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace FineTune.MLNet.Estimators;

/// <summary>
/// Fine-tunes a pretrained BERT-family encoder (default: the bundled all-MiniLM-L6-v2) with a classification head on
/// labelled text. Input: a text column (and optionally a second one for sentence pairs) and a key-typed label column.
/// Output: <c>Score</c> (class probabilities) and <c>PredictedLabel</c> (key). Full fine-tuning or LoRA on the encoder.
/// Checked against: ONNX Runtime running the original MiniLM ONNX (encoder parity, max abs diff ≤ 1e-4) and the numpy
/// reference of HF's BertForSequenceClassification (logits).
/// </summary>
public sealed class TextClassificationFineTuneEstimator : IEstimator<TextClassificationTransformer>
{
    private readonly IChannelProvider _env;
    private readonly IDataView? _validation;

    /// <param name="mlContext">Receives the training log (<c>mlContext.Log</c>).</param>
    /// <param name="options">What to train and how; validated here.</param>
    /// <param name="validationSet">Evaluated after each epoch (loss, accuracy, macro-F1); drives early stopping.</param>
    public TextClassificationFineTuneEstimator(MLContext mlContext, TextClassificationFineTuneOptions options, IDataView? validationSet = null)
        : this((IChannelProvider)mlContext, options, validationSet)
    {
    }

    internal TextClassificationFineTuneEstimator(IChannelProvider env, TextClassificationFineTuneOptions options, IDataView? validationSet)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _env = env;
        Options = options;
        _validation = validationSet;
    }

    public TextClassificationFineTuneOptions Options { get; }

    public TextClassificationTransformer Fit(IDataView input)
    {
        var o = Options;
        ClassificationDataReader.RequireRows(input, "training data");
        if (_validation is not null) ClassificationDataReader.RequireRows(_validation, "validation data");
        var labels = CheckSchema(input.Schema, "training data");
        if (_validation is not null)
        {
            var validLabels = CheckSchema(_validation.Schema, "validation data");
            if (!validLabels.SequenceEqual(labels))
                throw new ArgumentException($"The validation set's label column '{o.LabelColumnName}' has classes [{string.Join(", ", validLabels)}] but the training set has [{string.Join(", ", labels)}]; map both with the same MapValueToKey transformer.");
        }
        var train = ClassificationDataReader.Read(input, o.TextColumnName, o.SecondTextColumnName, o.LabelColumnName, "training data");
        var valid = _validation is null ? null : ClassificationDataReader.Read(_validation, o.TextColumnName, o.SecondTextColumnName, o.LabelColumnName, "validation data");

        using var channel = _env.Start(nameof(TextClassificationFineTuneEstimator));
        var device = TorchDevices.Parse(o.Device);
        random.manual_seed(o.Seed);
        using var pretrained = PretrainedEncoder.Load(o.Model);
        if (o.MaxLength > pretrained.Config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(o.MaxLength), $"MaxLength {o.MaxLength} exceeds the model's {pretrained.Config.MaxPositionEmbeddings} positions.");
        var config = pretrained.Config with { NumLabels = labels.Count, Id2Label = labels };
        var model = new BertForSequenceClassification(config, o.Lora);
        LoadEncoderWeights(model, pretrained);
        var classifier = new FineTunedTextClassifier(model, pretrained.Vocab, pretrained.TokenizerOptions, labels, o.MaxLength, device);
        channel.Log($"Fine-tuning {pretrained.Source} on {train.Count} rows ({labels.Count} classes), {(o.Lora is null ? "full fine-tuning" : $"LoRA r={o.Lora.Rank}")}, " +
                     $"{model.parameters().Where(p => p.requires_grad).Sum(p => p.numel())} trainable parameters.");
        using var task = new ClassificationTask(model, classifier.Tokenizer, train, valid, o.MaxLength, o.BatchSize * 4, device, o.BalanceClasses);
        string[] columns = [o.TextColumnName, .. o.SecondTextColumnName is { } second ? new[] { second } : [], o.LabelColumnName];
        using var run = RunRecorder.Start(_env, nameof(TextClassificationFineTuneEstimator), o,
            () => RunFingerprints.Model(o.Model, o.Model.Equals(PretrainedEncoder.MiniLm, StringComparison.OrdinalIgnoreCase) ? PretrainedEncoder.MiniLm : null,
                Directory.Exists(o.Model) ? o.Model : null),
            () => RunFingerprints.DataSets(input, _validation, columns), o.Progress);
        var report = new TrainingLoop(o, channel, run).Run(model, task);
        channel.Log($"Training took {report.TrainSeconds:F1}s at {report.TokensPerSecond:F0} tokens/s.");
        return new TextClassificationTransformer(classifier,
            new TextClassificationTransformer.ColumnNames(o.TextColumnName, o.SecondTextColumnName, o.ScoreColumnName, o.PredictedLabelColumnName, o.InferenceBatchSize,
                Binary: input.Schema[o.LabelColumnName].Type is Microsoft.ML.Data.BooleanDataViewType),
            report);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var o = Options;
        var columns = inputSchema.ToDictionary(c => c.Name);
        SchemaShapes.RequireText(inputSchema, o.TextColumnName, "Text");
        if (o.SecondTextColumnName is { } pair) SchemaShapes.RequireText(inputSchema, pair, "SecondText");
        if (!columns.TryGetValue(o.LabelColumnName, out var label)) throw new ArgumentOutOfRangeException("Label", $"Label column '{o.LabelColumnName}' was not found in the input.");
        var binary = label.ItemType is Microsoft.ML.Data.BooleanDataViewType;
        if (!label.IsKey && !binary) throw new ArgumentOutOfRangeException("Label", $"Label column '{o.LabelColumnName}' must be a key type (use MapValueToKey) or Boolean.");
        // SchemaShape.Column's constructor is internal: derive the output shape from the transformer's own output schema of
        // the new columns alone. Label names are unknown at shape time (a shape carries no annotation values): placeholders.
        var none = new DataViewSchema.Builder().ToSchema();
        var classes = label.ItemType is Microsoft.ML.Data.KeyDataViewType key ? (int)key.Count : 2;
        var added = binary
            ? ClassifierOutputSchema.Binary(none, o.ScoreColumnName, TextClassificationTransformer.ProbabilityColumnName, o.PredictedLabelColumnName)
            : ClassifierOutputSchema.Multiclass(none, [.. Enumerable.Range(1, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))],
                o.ScoreColumnName, o.PredictedLabelColumnName);
        string[] replaced = binary ? [o.ScoreColumnName, TextClassificationTransformer.ProbabilityColumnName, o.PredictedLabelColumnName] : [o.ScoreColumnName, o.PredictedLabelColumnName];
        return new SchemaShape(inputSchema.Where(c => !replaced.Contains(c.Name)).Concat(SchemaShapes.FromSchema(added)));
    }

    private IReadOnlyList<string> CheckSchema(Microsoft.ML.DataViewSchema schema, string what)
    {
        var o = Options;
        TextColumns.Check(schema, o.TextColumnName, "Text");
        if (o.SecondTextColumnName is not null) TextColumns.Check(schema, o.SecondTextColumnName, "SecondText");
        return ClassificationDataReader.CheckLabelColumn(schema, o.LabelColumnName);
    }

    /// <summary>Loads the pretrained encoder; only the pooler (absent from sentence-embedding exports), the head and LoRA
    /// adapters may be missing, and nothing may be left over.</summary>
    private static void LoadEncoderWeights(BertForSequenceClassification model, PretrainedEncoder pretrained)
    {
        var encoderOnly = pretrained.Weights.Where(kv => !kv.Key.StartsWith("classifier.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        var report = StateDictLoader.LoadInto(model, encoderOnly, strict: false);
        var missing = report.Missing.Where(k => !k.StartsWith("classifier.") && !k.StartsWith("bert.pooler.") && !k.Contains(".lora_")).ToList();
        if (missing.Count > 0 || report.Unexpected.Count > 0)
            throw new InvalidDataException($"Checkpoint '{pretrained.Source}' does not match the encoder: missing [{string.Join(", ", missing.Take(20))}], unexpected [{string.Join(", ", report.Unexpected.Take(20))}].");
    }
}
