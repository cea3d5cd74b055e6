using FineTune.MLNet.Generation;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;
using FineTune.MLNet.Transformers;

namespace FineTune.MLNet.Estimators;

/// <summary>
/// What the decoder-LLM estimators share (<see cref="LoraFineTuneOptions"/> for SFT, <see cref="DpoFineTuneOptions"/>):
/// the base checkpoint, LoRA adapters, how text is tokenized, and the prompt/output columns and generation settings
/// of the fitted transformer.
/// </summary>
public abstract record CausalLmFineTuneOptions : TrainerOptions
{
    /// <summary>Hugging Face checkpoint folder of a llama / mistral / qwen2 model (config.json, safetensors, tokenizer.json), or the name of a
    /// bundled decoder (<c>"tinystories-260k"</c>, see <see cref="Models.Pretrained.PretrainedDecoders"/>), which works offline.</summary>
    public string Model { get; init; } = "";

    /// <summary>Prompt column (String); also the input of the fitted transformer.</summary>
    public string PromptColumnName { get; init; } = "Prompt";

    /// <summary>Output column the fitted transformer writes: the generated answer to the prompt column.</summary>
    public string OutputColumnName { get; init; } = "Generated";

    /// <summary>Adapter settings of fresh adapters; <see cref="LoraSettings.QuantizeBase"/> = QLoRA.</summary>
    public LoraSettings Lora { get; init; } = new() { Rank = 8, Alpha = 16, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] };

    /// <summary>How examples are tokenized (max length, chat template, system prompt, EOS).</summary>
    public SftDataOptions Data { get; init; } = new() { MaxLength = 512 };

    /// <summary>Generation settings of the fitted transformer.</summary>
    public GenerationOptions Generation { get; init; } = new() { MaxNewTokens = 64 };

    /// <summary>
    /// Activation checkpointing per decoder layer while training (HF <c>gradient_checkpointing_enable()</c>, torchtune
    /// <c>enable_activation_checkpointing</c>): each layer keeps only its input and is recomputed in the backward. The
    /// gradients are the same; activation memory drops from every layer's intermediates to one layer's, for about one
    /// more forward pass of compute. With LoRA dropout &gt; 0 only the CPU is supported (its random generator is replayed).
    /// </summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>Prompts per generation batch when transforming (DPO: also pairs per reference/validation batch). Range 1..256.</summary>
    public int InferenceBatchSize { get; init; } = 8;

    /// <inheritdoc />
    /// <remarks>The fields the fitted transformer keeps are checked by <see cref="CausalLmSettings.Validate"/>, with the same names.</remarks>
    public override void Validate()
    {
        base.Validate();
        ToTransformerSettings().Validate();
    }

    /// <summary>What the fitted transformer keeps; <paramref name="lora"/> is the adapter actually trained (DPO may load one).</summary>
    internal CausalLmSettings ToTransformerSettings(LoraSettings? lora = null) => new()
    {
        Model = Model, PromptColumnName = PromptColumnName, OutputColumnName = OutputColumnName, InferenceBatchSize = InferenceBatchSize,
        Lora = lora ?? Lora, Data = Data, Generation = Generation,
    };
}
