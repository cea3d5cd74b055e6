namespace FineTune.MLNet.Generation;

/// <summary>Why a sequence stopped.</summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence token was generated (it is the last of <see cref="GenerationResult.TokenIds"/>).</summary>
    Eos,

    /// <summary>The generated text contains a stop string.</summary>
    StopString,

    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> tokens were generated.</summary>
    Length,
}

/// <summary>One generated continuation.</summary>
/// <param name="TokenIds">The generated ids (prompt excluded; an EOS that ended the sequence included).</param>
/// <param name="Text">The decoded continuation without special tokens, cut before a matched stop string.</param>
/// <param name="FinishReason">Why generation stopped.</param>
public sealed record GenerationResult(IReadOnlyList<int> TokenIds, string Text, FinishReason FinishReason);
