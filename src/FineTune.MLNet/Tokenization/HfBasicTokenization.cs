using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace FineTune.MLNet.Tokenization;

/// <summary>
/// The parts of Hugging Face's <c>BasicTokenizer</c> (transformers/models/bert/tokenization_bert.py) where
/// Microsoft.ML.Tokenizers 2.0.1's BertTokenizer differs, so that ids match HF:
/// <list type="bullet">
/// <item><c>_clean_text</c>: HF turns tab/CR/LF and space separators into spaces and drops control and format
/// characters (NUL, U+FFFD, categories C*); ML.Tokenizers drops tab/CR/LF, gluing "a\tb" into one word.</item>
/// <item>Splitting: HF splits on whitespace and isolates each punctuation character, where punctuation is every
/// ASCII non-alphanumeric printable (so <c>$ = + ^ | ~ &lt; &gt;</c> count) plus Unicode P*; every other character,
/// emoji included, stays inside its word (and may become [UNK]). ML.Tokenizers' default <c>\w+|\p{P}</c> silently
/// drops symbols such as <c>$</c>, <c>=</c>, <c>½</c> and emoji.</item>
/// </list>
/// </summary>
internal static partial class HfBasicTokenization
{
    /// <summary>HF <c>_clean_text</c>: whitespace to ' ', NUL/U+FFFD/control/format characters removed.</summary>
    public static string Clean(string text)
    {
        StringBuilder? builder = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            int width = char.IsSurrogatePair(text, i) ? 2 : 1;
            var category = CharUnicodeInfo.GetUnicodeCategory(text, i);
            string? replacement = IsWhitespace(c, category) ? (c == ' ' ? null : " ")
                : IsRemoved(c, category) ? string.Empty
                : null;
            if (replacement is not null && builder is null)
            {
                builder = new StringBuilder(text.Length);
                builder.Append(text, 0, i);
            }

            if (replacement is not null)
            {
                builder!.Append(replacement);
            }
            else
            {
                builder?.Append(text, i, width);
            }

            i += width - 1;
        }

        return builder?.ToString() ?? text;
    }

    /// <summary>
    /// Splits (cleaned, normalized) text into words and single punctuation characters as HF does,
    /// keeping <paramref name="specialTokens"/> such as "[SEP]" whole.
    /// </summary>
    public static PreTokenizer CreatePreTokenizer(IReadOnlyDictionary<string, int> specialTokens) =>
        new RegexPreTokenizer(WordOrPunctuation(), specialTokens);

    // HF _is_punctuation: ASCII 33-47, 58-64, 91-96, 123-126, or Unicode category P*. Words: runs of anything else but ' '.
    [GeneratedRegex(@"[!-/:-@\[-`{-~\p{P}]|[^ !-/:-@\[-`{-~\p{P}]+", RegexOptions.CultureInvariant)]
    private static partial Regex WordOrPunctuation();

    // HF _is_whitespace: ' ', '\t', '\n', '\r' or category Zs.
    private static bool IsWhitespace(char c, UnicodeCategory category) =>
        c is ' ' or '\t' or '\n' or '\r' || category == UnicodeCategory.SpaceSeparator;

    // HF drops cp 0, U+FFFD and _is_control (category C*, tab/CR/LF excepted: handled as whitespace above).
    private static bool IsRemoved(char c, UnicodeCategory category) =>
        c is '\0' or '\uFFFD' || category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse
            or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned;
}
