using FineTune.MLNet.Training;

namespace FineTune.MLNet.Estimators;

/// <summary>Options of <see cref="LoraFineTuneEstimator"/> (LoRA / QLoRA supervised fine-tuning of a decoder LLM).</summary>
public sealed record LoraFineTuneOptions : CausalLmFineTuneOptions
{
    public LoraFineTuneOptions()
    {
        LearningRate = 2e-4;
        BatchSize = 8;
        WeightDecay = 0.0;
        WarmupRatio = 0.03;
        Decay = LearningRateDecay.Cosine;
    }

    /// <summary>Response column (String) to learn (the prompt is <see cref="CausalLmFineTuneOptions.PromptColumnName"/>); ignored when <see cref="MessagesColumnName"/> is set.</summary>
    public string ResponseColumnName { get; init; } = "Response";

    /// <summary>Optional chat column: a JSON list of {"role", "content"} messages ending with the assistant reply.</summary>
    public string? MessagesColumnName { get; init; }

    /// <summary>Pack short examples into rows of <c>Data.MaxLength</c> (block-diagonal attention).</summary>
    public bool Packing { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (MessagesColumnName is null && string.IsNullOrWhiteSpace(ResponseColumnName))
            throw new ArgumentException("ResponseColumnName must name a column (or set MessagesColumnName).", nameof(ResponseColumnName));
    }
}
