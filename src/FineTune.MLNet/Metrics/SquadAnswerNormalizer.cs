using System.Text;
using System.Text.RegularExpressions;

namespace FineTune.MLNet.Metrics;

/// <summary>
/// The answer normalization of the official SQuAD evaluation script (<c>normalize_answer</c>): lowercase, drop
/// ASCII punctuation (Python's <c>string.punctuation</c>), drop the articles a / an / the as whole words, collapse
/// whitespace.
/// </summary>
internal static partial class SquadAnswerNormalizer
{
    private const string Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    [GeneratedRegex(@"\b(a|an|the)\b", RegexOptions.CultureInvariant)]
    private static partial Regex Articles();

    public static string Normalize(string text)
    {
        var lowered = text.ToLowerInvariant();
        var noPunctuation = new StringBuilder(lowered.Length);
        foreach (char c in lowered) if (!Punctuation.Contains(c)) noPunctuation.Append(c);
        var noArticles = Articles().Replace(noPunctuation.ToString(), " ");
        return string.Join(' ', Tokens(noArticles));
    }

    /// <summary>The normalized answer split on whitespace (<c>get_tokens</c>).</summary>
    public static string[] NormalizedTokens(string text) => Tokens(Normalize(text));

    private static string[] Tokens(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
}
