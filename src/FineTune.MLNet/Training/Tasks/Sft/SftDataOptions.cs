namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>How <see cref="SftExampleBuilder"/> turns prompts, responses and conversations into training sequences.</summary>
public sealed record SftDataOptions
{
    /// <summary>Longest sequence in tokens, BOS and EOS included; longer examples are truncated (see
    /// <see cref="SftExampleBuilder"/>). Range 2..1,048,576. Default 1024.</summary>
    public int MaxLength { get; init; } = 1024;

    /// <summary>Render conversations with the tokenizer's chat template when it has one (default true). When false,
    /// or when the tokenizer has no template, messages are joined with <see cref="Separator"/>.</summary>
    public bool UseChatTemplate { get; init; } = true;

    /// <summary>A Jinja chat template to use instead of the tokenizer's own; null uses the tokenizer's.</summary>
    public string? ChatTemplateOverride { get; init; }

    /// <summary>Text placed between the prompt and the response (and between turns) when no chat template is used.
    /// It belongs to the prompt, so it carries no loss. Default a newline.</summary>
    public string Separator { get; init; } = "\n";

    /// <summary>A system message put before the user prompt of (prompt, response) pairs; null for none.
    /// Conversations given as messages keep their own system message.</summary>
    public string? SystemPrompt { get; init; }

    /// <summary>Append the EOS token (supervised) unless the text already ends with it, so the model learns to stop.
    /// Default true. The tokenizer's own <c>add_eos_token</c> also appends it.</summary>
    public bool AppendEos { get; init; } = true;

    /// <summary>Assistant turns that carry loss in multi-turn conversations. Default <see cref="SupervisedTurns.LastAssistant"/>.</summary>
    public SupervisedTurns SupervisedTurns { get; init; } = SupervisedTurns.LastAssistant;

    /// <summary>Throws naming the first invalid field.</summary>
    public void Validate()
    {
        if (MaxLength is < 2 or > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, $"{nameof(MaxLength)} must be in 2..1048576.");
        if (Separator is null) throw new ArgumentNullException(nameof(Separator), $"{nameof(Separator)} must not be null (use \"\" for none).");
        if (ChatTemplateOverride is { Length: 0 })
            throw new ArgumentException($"{nameof(ChatTemplateOverride)} is empty; use null for the tokenizer's template.", nameof(ChatTemplateOverride));
        if (!Enum.IsDefined(SupervisedTurns))
            throw new ArgumentOutOfRangeException(nameof(SupervisedTurns), SupervisedTurns, $"{nameof(SupervisedTurns)} is not a defined value.");
    }
}
