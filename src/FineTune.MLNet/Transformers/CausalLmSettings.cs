using FineTune.MLNet.Generation;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training.Tasks.Sft;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// What a fitted LoRA causal LM (<see cref="LoraFineTuneTransformer"/>, SFT- or DPO-tuned) needs besides
/// its model and tokenizer: the base checkpoint, the columns, how prompts are formatted and how answers are generated.
/// The estimators fill it from their options; <see cref="FineTunePipeline"/> saves it next to the adapter.
/// </summary>
public sealed record CausalLmSettings
{
    /// <summary>Hugging Face checkpoint folder of the base model the adapter applies to.</summary>
    public required string Model { get; init; }

    /// <summary>Prompt column (String) the transformer reads.</summary>
    public string PromptColumnName { get; init; } = "Prompt";

    /// <summary>Output column (String) the transformer writes: the generated answer to the prompt.</summary>
    public string OutputColumnName { get; init; } = "Generated";

    /// <summary>Prompts per generation batch. Range 1..256.</summary>
    public int InferenceBatchSize { get; init; } = 8;

    /// <summary>The adapter's settings (rank, alpha, targets, QLoRA base).</summary>
    public required LoraSettings Lora { get; init; }

    /// <summary>How prompts are formatted (chat template, system prompt), as in training.</summary>
    public required SftDataOptions Data { get; init; }

    /// <summary>Default generation settings of <see cref="LoraFineTuneTransformer.Generate"/> and <c>Transform</c>.</summary>
    public required GenerationOptions Generation { get; init; }

    /// <summary>Throws naming the first invalid field.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Model)) throw new ArgumentException("Model must name a Hugging Face checkpoint folder.", nameof(Model));
        if (string.IsNullOrWhiteSpace(PromptColumnName)) throw new ArgumentException("PromptColumnName must name a column.", nameof(PromptColumnName));
        if (string.IsNullOrWhiteSpace(OutputColumnName)) throw new ArgumentException("OutputColumnName must name a column.", nameof(OutputColumnName));
        if (InferenceBatchSize is < 1 or > 256)
            throw new ArgumentOutOfRangeException(nameof(InferenceBatchSize), InferenceBatchSize, $"InferenceBatchSize must be in 1..256 (got {InferenceBatchSize}).");
        ArgumentNullException.ThrowIfNull(Lora, nameof(Lora));
        Lora.Validate();
        ArgumentNullException.ThrowIfNull(Data, nameof(Data));
        Data.Validate();
        ArgumentNullException.ThrowIfNull(Generation, nameof(Generation));
        Generation.Validate();
    }
}
