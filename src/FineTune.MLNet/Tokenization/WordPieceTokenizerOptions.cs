namespace FineTune.MLNet.Tokenization;

/// <summary>
/// Text normalization settings of a BERT WordPiece tokenizer, named after the Hugging Face
/// <c>BertTokenizer</c> arguments they mirror.
/// </summary>
public sealed record WordPieceTokenizerOptions
{
    /// <summary>Lower-case the text before splitting (HF <c>do_lower_case</c>). Default true (uncased vocabularies).</summary>
    public bool LowerCase { get; init; } = true;

    /// <summary>
    /// Strip accents (Unicode non-spacing marks after NFD decomposition; HF <c>strip_accents</c>).
    /// Null follows HF: accents are stripped exactly when <see cref="LowerCase"/> is true.
    /// </summary>
    public bool? StripAccents { get; init; }

    /// <summary>Put spaces around every CJK ideograph so each becomes its own word (HF <c>tokenize_chinese_chars</c>). Default true.</summary>
    public bool TokenizeChineseChars { get; init; } = true;

    /// <summary>Words longer than this many characters become <c>[UNK]</c> (HF <c>max_input_chars_per_word</c>). Default 100; must be at least 1.</summary>
    public int MaxInputCharsPerWord { get; init; } = 100;

    /// <summary>Options for uncased BERT vocabularies such as bert-base-uncased and all-MiniLM-L6-v2.</summary>
    public static WordPieceTokenizerOptions Uncased { get; } = new();

    /// <summary>Options for cased BERT vocabularies such as bert-base-cased.</summary>
    public static WordPieceTokenizerOptions Cased { get; } = new() { LowerCase = false };

    /// <summary>Whether accents are stripped once <see cref="StripAccents"/>' default is resolved.</summary>
    public bool EffectiveStripAccents => StripAccents ?? LowerCase;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (MaxInputCharsPerWord < 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxInputCharsPerWord), MaxInputCharsPerWord, $"{nameof(MaxInputCharsPerWord)} must be at least 1.");
        }
    }
}
