using System.Text;

namespace FineTune.MLNet.Tokenization;

/// <summary>
/// What <see cref="WordPieceTokenizer"/> needs to know about a <c>vocab.txt</c> that Microsoft.ML.Tokenizers does not
/// expose: its entry count and the ids of the BERT special tokens. Line i (0-based, CR/LF endings) is token id i.
/// </summary>
internal sealed record VocabFileSummary(int Size, IReadOnlyDictionary<string, int> SpecialTokens)
{
    public static readonly string[] RequiredSpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    public static VocabFileSummary Read(byte[] utf8, string source)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(utf8);
        }
        catch (DecoderFallbackException ex)
        {
            throw new InvalidDataException($"WordPiece vocabulary '{source}' is not valid UTF-8.", ex);
        }

        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        var lines = text.Split('\n');
        int size = text.EndsWith('\n') ? lines.Length - 1 : lines.Length;
        if (text.Length == 0 || size == 0)
        {
            throw new InvalidDataException($"WordPiece vocabulary '{source}' is empty.");
        }

        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < size; id++)
        {
            string token = lines[id].TrimEnd('\r');
            if (Array.IndexOf(RequiredSpecialTokens, token) >= 0)
            {
                specials.TryAdd(token, id);
            }
        }

        var missing = RequiredSpecialTokens.Where(t => !specials.ContainsKey(t)).ToArray();
        if (missing.Length > 0)
        {
            throw new InvalidDataException(
                $"WordPiece vocabulary '{source}' ({size} lines) lacks the special token(s) {string.Join(", ", missing)}; a BERT vocab.txt needs all of {string.Join(", ", RequiredSpecialTokens)}.");
        }

        return new VocabFileSummary(size, specials);
    }
}
