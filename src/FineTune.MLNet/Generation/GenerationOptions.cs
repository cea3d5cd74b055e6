namespace FineTune.MLNet.Generation;

/// <summary>
/// Decoding settings with HF <c>GenerationConfig</c> meaning. Greedy unless <see cref="DoSample"/>; when sampling,
/// the logits go through temperature, then top-k, then top-p (HF's warper order), then a seeded multinomial draw.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate per prompt (HF <c>max_new_tokens</c>); 1..100000.</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Sample instead of taking the argmax (HF <c>do_sample</c>).</summary>
    public bool DoSample { get; init; }

    /// <summary>Logit divisor when sampling; &gt; 0 (HF <c>temperature</c>).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Keep only the k most likely tokens when sampling; 0 = off (HF <c>top_k</c>).</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p; in (0, 1], 1 = off (HF <c>top_p</c>).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Seed of the sampling generator; null draws from a time-based seed.</summary>
    public long? Seed { get; init; }

    /// <summary>Stop a sequence when its generated text contains one of these; the text is cut before it.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>End-of-sequence ids; null means the model config's <c>eos_token_id</c> (one or several) plus the tokenizer's EOS.</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }

    /// <summary>Reuse keys/values of earlier positions (faster); false recomputes the whole sequence every step.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Encode prompts with the tokenizer's special tokens (e.g. BOS).</summary>
    public bool AddSpecialTokens { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (MaxNewTokens is < 1 or > 100_000) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "MaxNewTokens must be in 1..100000.");
        if (!(Temperature > 0) || !double.IsFinite(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be a finite number > 0.");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be >= 0 (0 turns it off).");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "TopP must be in (0, 1].");
        if (StopStrings is null || StopStrings.Any(string.IsNullOrEmpty)) throw new ArgumentOutOfRangeException(nameof(StopStrings), "StopStrings must not contain null or empty strings.");
    }
}
