namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// Fits a tokenized example into a maximum length, keeping the response: the context before the last supervised
/// segment is cut from its left (after any leading BOS, which stays); if the response alone is still too long,
/// its end is cut (EOS included: a reply cut short should not teach the model to stop there).
/// </summary>
internal static class SftTruncation
{
    /// <summary>Truncates <paramref name="ids"/> and <paramref name="labels"/> in place; returns whether anything was cut.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="labels">Aligned labels.</param>
    /// <param name="keepStart">Index of the first token of the response (the part kept first).</param>
    /// <param name="leadingKept">Tokens at the start (BOS) that are never cut while <paramref name="maxLength"/> leaves room for them.</param>
    /// <param name="maxLength">Largest allowed length.</param>
    public static bool Apply(List<int> ids, List<int> labels, int keepStart, int leadingKept, int maxLength)
    {
        int overflow = ids.Count - maxLength;
        if (overflow <= 0) return false;
        if (leadingKept >= maxLength || leadingKept > keepStart) leadingKept = 0;
        int dropContext = Math.Min(overflow, keepStart - leadingKept);
        ids.RemoveRange(leadingKept, dropContext);
        labels.RemoveRange(leadingKept, dropContext);
        overflow -= dropContext;
        if (overflow > 0)
        {
            ids.RemoveRange(ids.Count - overflow, overflow);
            labels.RemoveRange(labels.Count - overflow, overflow);
        }
        return true;
    }
}
