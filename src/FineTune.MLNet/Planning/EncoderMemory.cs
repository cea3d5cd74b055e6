using FineTune.MLNet.Formats.HuggingFace;

namespace FineTune.MLNet.Planning;

/// <summary>
/// The memory of fine-tuning a BERT/DistilBERT classifier (<c>finetune classify</c>): the model's weights plus the
/// pretrained copy the estimator keeps loaded while it trains, gradients and AdamW moments of what trains (everything,
/// or the LoRA adapters on query and value with the pooler and the head), and the activations autograd keeps per
/// token and layer (<see cref="ActivationFloatsPerToken"/>).
/// </summary>
public static class EncoderMemory
{
    /// <summary>LoRA targets of <c>finetune classify --lora-rank</c>.</summary>
    public static readonly IReadOnlyList<string> LoraTargets = ["query", "value"];

    /// <summary>
    /// Float32 values (and dropout masks) autograd keeps per token and layer: the layer input, q/k/v, attention scores,
    /// probabilities and their dropout (3 × heads × T), the context, the projections, dropouts and layer norms, and the
    /// intermediate before and after GELU.
    /// </summary>
    public static double ActivationFloatsPerToken(BertConfig c, int sequenceLength) =>
        13.0 * c.HiddenSize + 3.0 * c.IntermediateSize + 3.0 * c.NumAttentionHeads * sequenceLength;

    /// <summary>The estimate for batches of <paramref name="batchSize"/> texts of <paramref name="sequenceLength"/> tokens and <paramref name="labels"/> classes.</summary>
    public static MemoryEstimate Estimate(BertConfig c, int labels, TrainingMethod m, int batchSize, int sequenceLength)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(m);
        if (m.Quantized) throw new NotSupportedException("QLoRA is not offered for classifiers (finetune classify has no --qlora).");
        double h = c.HiddenSize;
        var config = c with { NumLabels = labels };
        double model = ModelMemory.ParameterCount(config);
        double headAndPooler = h * h + h + h * labels + labels;
        double lora = m.Rank is { } r ? c.NumHiddenLayers * LoraTargets.Count * (double)r * (h + h) : 0;
        double total = model + lora;
        double trainable = m.Rank is null ? model : lora + headAndPooler;
        double pretrainedCopy = model - h * labels - labels;
        double tokens = (double)batchSize * sequenceLength;
        double activations = tokens * (c.NumHiddenLayers * ActivationFloatsPerToken(c, sequenceLength) + 4 * h);
        return new MemoryEstimate(total, trainable, 4 * (total + pretrainedCopy), 4 * trainable, 8 * trainable, 4 * activations, 4.0 * 3 * batchSize * labels);
    }
}
