namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>
/// Finds added tokens (<c>&lt;|im_start|&gt;</c>, <c>&lt;s&gt;</c>, ...) in raw text, leftmost and longest first,
/// honouring <c>lstrip</c>/<c>rstrip</c> (the match swallows neighbouring whitespace) and <c>single_word</c>.
/// The text between matches is returned as plain segments for the normalizer / pre-tokenizer / model.
/// Matching is on the raw text for every added token (HF matches <c>normalized: true</c> ones after
/// normalization; decoder-LLM checkpoints mark their added tokens <c>normalized: false</c>).
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly Dictionary<char, HfAddedToken[]> _byFirstChar;

    public AddedTokenSplitter(IEnumerable<HfAddedToken> tokens)
    {
        _byFirstChar = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    /// <summary>One piece of the input: plain text (<see cref="Token"/> null) or an added token.</summary>
    /// <param name="Text">The plain text, or null for an added token.</param>
    /// <param name="Token">The added token, or null for plain text.</param>
    /// <param name="Start">Offset of the piece in the input.</param>
    internal readonly record struct Piece(string? Text, HfAddedToken? Token, int Start);

    public List<Piece> Split(string text)
    {
        var pieces = new List<Piece>();
        int plainStart = 0, i = 0;
        while (i < text.Length)
        {
            if (!_byFirstChar.TryGetValue(text[i], out var candidates) || FindMatch(text, i, candidates) is not { } token)
            {
                i++;
                continue;
            }
            int start = i, end = i + token.Content.Length;
            if (token.LStrip) while (start > plainStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RStrip) while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > plainStart) pieces.Add(new Piece(text[plainStart..start], null, plainStart));
            pieces.Add(new Piece(null, token, start));
            i = plainStart = end;
        }
        if (plainStart < text.Length) pieces.Add(new Piece(text[plainStart..], null, plainStart));
        return pieces;
    }

    private static HfAddedToken? FindMatch(string text, int at, HfAddedToken[] candidates)
    {
        foreach (var token in candidates)
        {
            if (at + token.Content.Length > text.Length || string.CompareOrdinal(text, at, token.Content, 0, token.Content.Length) != 0) continue;
            if (token.SingleWord && (IsWordChar(text, at - 1) || IsWordChar(text, at + token.Content.Length))) continue;
            return token;
        }
        return null;
    }

    private static bool IsWordChar(string text, int index) =>
        index >= 0 && index < text.Length && (char.IsLetterOrDigit(text[index]) || text[index] == '_');
}
