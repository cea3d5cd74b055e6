namespace FineTune.MLNet.Metrics;

/// <summary>
/// The default tokenizer of Google's <c>rouge-score</c> package without stemming (<c>tokenize.tokenize</c>):
/// lowercase, replace every run of characters outside <c>[a-z0-9]</c> by a space, split on whitespace. Like the
/// package, it keeps ASCII letters and digits only (so "café" gives "caf" and non-Latin text gives no tokens).
/// </summary>
internal static class RougeScoreTokenizer
{
    public static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var lowered = text.ToLowerInvariant();
        int start = -1;
        for (int i = 0; i <= lowered.Length; i++)
        {
            bool keep = i < lowered.Length && lowered[i] is >= 'a' and <= 'z' or >= '0' and <= '9';
            if (keep && start < 0) start = i;
            else if (!keep && start >= 0)
            {
                tokens.Add(lowered[start..i]);
                start = -1;
            }
        }
        return tokens;
    }
}
