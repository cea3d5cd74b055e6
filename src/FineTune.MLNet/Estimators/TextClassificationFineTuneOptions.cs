using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;

namespace FineTune.MLNet.Estimators;

/// <summary>Options of <see cref="TextClassificationFineTuneEstimator"/>.</summary>
public sealed record TextClassificationFineTuneOptions : TrainerOptions
{
    public TextClassificationFineTuneOptions()
    {
        LearningRate = 5e-5;
    }

    /// <summary>Input text column (<c>string</c>).</summary>
    public string TextColumnName { get; init; } = "Text";

    /// <summary>Optional second text column for sentence-pair tasks (<c>[CLS] a [SEP] b [SEP]</c>).</summary>
    public string? SecondTextColumnName { get; init; }

    /// <summary>Key-typed label column (use <c>MapValueToKey</c> first).</summary>
    public string LabelColumnName { get; init; } = "Label";

    /// <summary>Output: class probabilities, a float vector with one slot per class.</summary>
    public string ScoreColumnName { get; init; } = "Score";

    /// <summary>Output: the arg-max class, key-typed like the label.</summary>
    public string PredictedLabelColumnName { get; init; } = "PredictedLabel";

    /// <summary>
    /// The pretrained encoder: <c>minilm</c> (all-MiniLM-L6-v2, bundled, no download) or a folder with a Hugging Face
    /// BERT/DistilBERT checkpoint (<c>config.json</c>, <c>model.safetensors</c>, <c>vocab.txt</c>).
    /// </summary>
    public string Model { get; init; } = "minilm";

    /// <summary>Tokens per example after truncation (with [CLS]/[SEP]). Range 8..model max positions.</summary>
    public int MaxLength { get; init; } = 128;

    /// <summary>LoRA on the encoder (the classifier head trains fully); null = full fine-tuning.</summary>
    public LoraSettings? Lora { get; init; }

    /// <summary>
    /// Weight each class's loss by <c>n / (classes · count)</c> (scikit-learn's "balanced"), so rare classes are not
    /// ignored on imbalanced data; validation loss stays unweighted.
    /// </summary>
    public bool BalanceClasses { get; init; }

    /// <summary>Rows per forward pass when scoring. Range 1..4096.</summary>
    public int InferenceBatchSize { get; init; } = 64;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (string.IsNullOrWhiteSpace(TextColumnName)) throw new ArgumentException("TextColumnName must name a column.", nameof(TextColumnName));
        if (string.IsNullOrWhiteSpace(LabelColumnName)) throw new ArgumentException("LabelColumnName must name a column.", nameof(LabelColumnName));
        if (string.IsNullOrWhiteSpace(ScoreColumnName)) throw new ArgumentException("ScoreColumnName must name a column.", nameof(ScoreColumnName));
        if (string.IsNullOrWhiteSpace(PredictedLabelColumnName)) throw new ArgumentException("PredictedLabelColumnName must name a column.", nameof(PredictedLabelColumnName));
        if (SecondTextColumnName is not null && string.IsNullOrWhiteSpace(SecondTextColumnName))
            throw new ArgumentException("SecondTextColumnName must be null or name a column.", nameof(SecondTextColumnName));
        if (string.IsNullOrWhiteSpace(Model)) throw new ArgumentException("Model must be 'minilm' or a checkpoint folder.", nameof(Model));
        Check(MaxLength is >= 8 and <= 8192, nameof(MaxLength), MaxLength, "must be in 8..8192");
        Check(InferenceBatchSize is >= 1 and <= 4096, nameof(InferenceBatchSize), InferenceBatchSize, "must be in 1..4096");
        Lora?.Validate();
    }
}
