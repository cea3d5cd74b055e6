using FineTune.MLNet.Generation;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;

namespace FineTune.MLNet.Estimators;

/// <summary>Options of <see cref="LoraFineTuneEstimator"/> (LoRA / QLoRA supervised fine-tuning of a decoder LLM).</summary>
public sealed record LoraFineTuneOptions : TrainerOptions
{
    public LoraFineTuneOptions()
    {
        LearningRate = 2e-4;
        BatchSize = 8;
        WeightDecay = 0.0;
        WarmupRatio = 0.03;
        Decay = LearningRateDecay.Cosine;
    }

    /// <summary>Hugging Face checkpoint folder of a llama / mistral / qwen2 model (config.json, safetensors, tokenizer.json).</summary>
    public string Model { get; init; } = "";

    /// <summary>Prompt column (String). Used with <see cref="ResponseColumnName"/>, or alone at inference.</summary>
    public string PromptColumnName { get; init; } = "Prompt";

    /// <summary>Response column (String) to learn; ignored when <see cref="MessagesColumnName"/> is set.</summary>
    public string ResponseColumnName { get; init; } = "Response";

    /// <summary>Optional chat column: a JSON list of {"role", "content"} messages ending with the assistant reply.</summary>
    public string? MessagesColumnName { get; init; }

    /// <summary>Output column the fitted transformer writes: the generated answer to the prompt column.</summary>
    public string OutputColumnName { get; init; } = "Generated";

    /// <summary>Adapter settings; <see cref="LoraSettings.QuantizeBase"/> = QLoRA.</summary>
    public LoraSettings Lora { get; init; } = new() { Rank = 8, Alpha = 16, Dropout = 0.05, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] };

    /// <summary>How examples are tokenized (max length, chat template, system prompt, EOS).</summary>
    public SftDataOptions Data { get; init; } = new() { MaxLength = 512 };

    /// <summary>Pack short examples into rows of <see cref="SftDataOptions.MaxLength"/> (block-diagonal attention).</summary>
    public bool Packing { get; init; }

    /// <summary>Generation settings of the fitted transformer.</summary>
    public GenerationOptions Generation { get; init; } = new() { MaxNewTokens = 64 };

    /// <summary>Prompts per generation batch when transforming. Range 1..256.</summary>
    public int InferenceBatchSize { get; init; } = 8;

    public override void Validate()
    {
        base.Validate();
        if (string.IsNullOrWhiteSpace(Model)) throw new ArgumentException("Model must name a Hugging Face checkpoint folder.", nameof(Model));
        if (string.IsNullOrWhiteSpace(PromptColumnName)) throw new ArgumentException("PromptColumnName must name a column.", nameof(PromptColumnName));
        if (MessagesColumnName is null && string.IsNullOrWhiteSpace(ResponseColumnName))
            throw new ArgumentException("ResponseColumnName must name a column (or set MessagesColumnName).", nameof(ResponseColumnName));
        if (string.IsNullOrWhiteSpace(OutputColumnName)) throw new ArgumentException("OutputColumnName must name a column.", nameof(OutputColumnName));
        ArgumentNullException.ThrowIfNull(Lora, nameof(Lora));
        Lora.Validate();
        ArgumentNullException.ThrowIfNull(Data, nameof(Data));
        Data.Validate();
        ArgumentNullException.ThrowIfNull(Generation, nameof(Generation));
        Generation.Validate();
        Check(InferenceBatchSize is >= 1 and <= 256, nameof(InferenceBatchSize), InferenceBatchSize, "must be in 1..256");
    }
}
