using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Models.Pretrained;

namespace FineTune.MLNet.Planning;

/// <summary>
/// A model as the planner sees it: its config only (no weights are read), and the training methods the CLI offers for
/// it: classifiers full fine-tuning and LoRA; decoders LoRA and QLoRA (full fine-tuning is estimated, not offered by
/// <c>finetune sft</c>/<c>dpo</c>).
/// </summary>
public sealed class PlannedModel
{
    private PlannedModel(string source, BertConfig? encoder, int labels, LlamaConfig? decoder)
    {
        Source = source;
        Encoder = encoder;
        Labels = labels;
        Decoder = decoder;
    }

    /// <summary>What <c>--model</c> named.</summary>
    public string Source { get; }

    /// <summary>The classifier's encoder config, or null for a decoder.</summary>
    public BertConfig? Encoder { get; }

    /// <summary>Classes of the classifier head.</summary>
    public int Labels { get; }

    /// <summary>The decoder config, or null for a classifier.</summary>
    public LlamaConfig? Decoder { get; }

    /// <summary>A classifier: <c>minilm</c> or a BERT/DistilBERT folder, with <paramref name="labels"/> classes.</summary>
    public static PlannedModel Classifier(string model, int labels)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        if (string.Equals(model, PretrainedEncoder.MiniLm, StringComparison.OrdinalIgnoreCase)) return new(model, PretrainedEncoder.MiniLmConfig, labels, null);
        var config = Path.Combine(model, "config.json");
        if (!File.Exists(config)) throw new FileNotFoundException($"--model: '{model}' is neither '{PretrainedEncoder.MiniLm}' nor a folder with a config.json.", config);
        return new(model, BertConfig.FromJsonFile(config), labels, null);
    }

    /// <summary>A decoder: a bundled name or a llama/mistral/qwen2 folder.</summary>
    public static PlannedModel CausalLm(string model)
    {
        var folder = PretrainedDecoders.ResolveFolder(model);
        return new(model, null, 0, LlamaConfig.FromJsonFile(Path.Combine(folder, "config.json")));
    }

    /// <summary>The methods to compare: full fine-tuning, LoRA at each rank, and (decoders) QLoRA at each rank.</summary>
    public IReadOnlyList<TrainingMethod> Methods(IReadOnlyList<int> ranks)
    {
        var methods = new List<TrainingMethod> { TrainingMethod.Full };
        methods.AddRange(ranks.Select(TrainingMethod.Lora));
        if (Decoder is not null) methods.AddRange(ranks.Select(TrainingMethod.QLora));
        return methods;
    }

    /// <summary>Whether the CLI trains this model with <paramref name="method"/> (decoders: adapters only; classifiers: no QLoRA).</summary>
    public bool Offers(TrainingMethod method) => Decoder is not null ? method.Rank is not null : !method.Quantized;

    /// <summary>The memory of one training step of <paramref name="method"/> at <paramref name="shape"/>.</summary>
    public MemoryEstimate Estimate(TrainingMethod method, RunShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        shape.Validate();
        return Decoder is { } d
            ? DecoderMemory.Estimate(d, method, shape.Targets, shape.Pairs ? 2 * shape.BatchSize : shape.BatchSize, shape.SequenceLength, shape.GradientCheckpointing)
            : EncoderMemory.Estimate(Encoder!, Labels, method, shape.BatchSize, shape.SequenceLength);
    }

    /// <summary>
    /// The largest batch size up to <paramref name="shape"/>'s whose estimate fits in <paramref name="availableBytes"/>
    ///; null when not even batch 1 fits.
    /// </summary>
    public int? LargestBatchThatFits(TrainingMethod method, RunShape shape, double availableBytes)
    {
        for (int b = shape.BatchSize; b >= 1; b = b > 8 ? b * 3 / 4 : b - 1)
        {
            if (Estimate(method, shape with { BatchSize = b }).TotalBytes <= availableBytes) return b;
        }
        return null;
    }
}
