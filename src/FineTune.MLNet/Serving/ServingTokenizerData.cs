using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FineTune.MLNet.Tokenization;

namespace FineTune.MLNet.Serving;

/// <summary>
/// The tokenizer of a serving pipeline as one text value: a JSON settings line, then the <c>vocab.txt</c> text. The
/// pipeline stores it with ML.NET's own <c>MapValue</c> transform (key <see cref="Key"/>), so it is saved inside the
/// model .zip; the tokenizer mapping rebuilds the <see cref="WordPieceTokenizer"/> from it once per distinct value.
/// </summary>
internal static class ServingTokenizerData
{
    /// <summary>The one key of the tokenizer-data value mapping.</summary>
    public const string Key = "wordpiece";

    /// <summary>Settings line + vocabulary text.</summary>
    public static string Encode(ReadOnlySpan<byte> vocabTxt, WordPieceTokenizerOptions options, int maxLength)
    {
        var settings = new Settings(options.LowerCase, options.StripAccents, options.TokenizeChineseChars, options.MaxInputCharsPerWord, maxLength);
        return JsonSerializer.Serialize(settings) + "\n" + Encoding.UTF8.GetString(vocabTxt);
    }

    /// <summary>The tokenizer and maximum length of <paramref name="data"/>; cached by the caller.</summary>
    public static (WordPieceTokenizer Tokenizer, int MaxLength) Decode(ReadOnlySpan<char> data)
    {
        var newline = data.IndexOf('\n');
        if (newline < 0) throw new InvalidDataException("Serving pipeline: the tokenizer data has no settings line (expected JSON settings, a newline, then vocab.txt).");
        var settings = JsonSerializer.Deserialize<Settings>(data[..newline])
            ?? throw new InvalidDataException("Serving pipeline: the tokenizer settings line is empty.");
        var options = new WordPieceTokenizerOptions
        {
            LowerCase = settings.LowerCase,
            StripAccents = settings.StripAccents,
            TokenizeChineseChars = settings.TokenizeChineseChars,
            MaxInputCharsPerWord = settings.MaxInputCharsPerWord,
        };
        var vocab = Encoding.UTF8.GetBytes(data[(newline + 1)..].ToArray());
        return (WordPieceTokenizer.FromVocabStream(new MemoryStream(vocab), options), settings.MaxLength);
    }

    /// <summary>One decoded tokenizer per data value: a row's value is compared with the cached one (same string: O(1)).</summary>
    public sealed class Cache
    {
        private readonly object _lock = new();
        private ReadOnlyMemory<char> _data;
        private (WordPieceTokenizer Tokenizer, int MaxLength)? _decoded;

        public (WordPieceTokenizer Tokenizer, int MaxLength) Get(ReadOnlyMemory<char> data)
        {
            lock (_lock)
            {
                if (_decoded is { } hit && SameValue(_data, data)) return hit;
                var decoded = Decode(data.Span);
                _data = data;
                _decoded = decoded;
                return decoded;
            }
        }

        private static bool SameValue(ReadOnlyMemory<char> a, ReadOnlyMemory<char> b)
        {
            if (MemoryMarshal.TryGetString(a, out var sa, out var starta, out var lengtha)
                && MemoryMarshal.TryGetString(b, out var sb, out var startb, out var lengthb)
                && ReferenceEquals(sa, sb) && starta == startb && lengtha == lengthb)
                return true;
            return a.Span.SequenceEqual(b.Span);
        }
    }

    private sealed record Settings(
        [property: JsonPropertyName("lower_case")] bool LowerCase,
        [property: JsonPropertyName("strip_accents")] bool? StripAccents,
        [property: JsonPropertyName("tokenize_chinese_chars")] bool TokenizeChineseChars,
        [property: JsonPropertyName("max_input_chars_per_word")] int MaxInputCharsPerWord,
        [property: JsonPropertyName("max_length")] int MaxLength);
}
