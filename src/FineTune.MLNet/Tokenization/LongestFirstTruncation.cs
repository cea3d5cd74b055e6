namespace FineTune.MLNet.Tokenization;

/// <summary>
/// Hugging Face's <c>truncation="longest_first"</c> for a sentence pair: remove one token at a time from the end of
/// the longer sequence until both fit; on a tie the second sequence loses the token (as in transformers'
/// <c>truncate_sequences</c> and the Rust tokenizers), so the first keeps ceil(budget/2) when both are long.
/// </summary>
internal static class LongestFirstTruncation
{
    /// <summary>Lengths (first, second) to keep so that first + second &lt;= <paramref name="budget"/>.</summary>
    public static (int First, int Second) KeptLengths(int firstLength, int secondLength, int budget)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstLength);
        ArgumentOutOfRangeException.ThrowIfNegative(secondLength);
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        int first = firstLength, second = secondLength;
        int excess = first + second - budget;
        if (excess <= 0)
        {
            return (first, second);
        }

        // Shorten the longer one down to the shorter one's length, then alternate (second first on ties).
        int difference = Math.Min(Math.Abs(first - second), excess);
        if (first > second)
        {
            first -= difference;
        }
        else
        {
            second -= difference;
        }

        int rest = excess - difference;
        first -= rest / 2;
        second -= rest - rest / 2;
        return (first, second);
    }
}
