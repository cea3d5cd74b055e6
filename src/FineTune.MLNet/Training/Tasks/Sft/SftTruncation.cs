namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// Fits a tokenized example into a maximum length without losing its instruction. The context before the last
/// supervised segment (the request, earlier turns) is cut from its left, after any leading BOS, which stays, but only
/// down to half of the window: at least <c>min(context, maxLength / 2)</c> context tokens, its end, are kept. The
/// response then fills the rest and, when longer, is cut at its end (EOS included: a reply cut short should not teach
/// the model to stop there). Without that floor a response longer than the window would push the whole request out,
/// and the model would be tuned on unconditioned text (TRL's SFT truncation keeps the start for the same reason).
/// </summary>
internal static class SftTruncation
{
    /// <summary>Truncates <paramref name="ids"/> and <paramref name="labels"/> in place; returns whether anything was cut.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="labels">Aligned labels.</param>
    /// <param name="keepStart">Index of the first token of the response.</param>
    /// <param name="leadingKept">Tokens at the start (BOS) that are never cut while <paramref name="maxLength"/> leaves room for them.</param>
    /// <param name="maxLength">Largest allowed length.</param>
    public static bool Apply(List<int> ids, List<int> labels, int keepStart, int leadingKept, int maxLength)
    {
        int overflow = ids.Count - maxLength;
        if (overflow <= 0) return false;
        if (leadingKept >= maxLength || leadingKept > keepStart) leadingKept = 0;
        int context = keepStart - leadingKept;                          // cuttable context tokens
        int contextFloor = Math.Min(context, Math.Max(0, maxLength / 2 - leadingKept));
        int dropContext = Math.Min(overflow, context - contextFloor);
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
