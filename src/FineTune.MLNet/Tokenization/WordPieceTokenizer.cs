using Microsoft.ML.Tokenizers;

namespace FineTune.MLNet.Tokenization;

/// <summary>
/// BERT WordPiece tokenizer (the one of bert-base-uncased, MiniLM, DistilBERT, ...) over Microsoft.ML.Tokenizers'
/// <see cref="BertTokenizer"/>, producing model inputs the way Hugging Face's <c>BertTokenizer</c> does:
/// <c>[CLS] a [SEP]</c> or <c>[CLS] a [SEP] b [SEP]</c>, token type ids 0 then 1, truncation
/// <c>longest_first</c>, right padding with <c>[PAD]</c> and attention mask 0.
/// </summary>
/// <remarks>
/// Text cleaning and word splitting follow HF's <c>BasicTokenizer</c> (see <see cref="HfBasicTokenization"/>), since
/// BertTokenizer's defaults drop symbols such as <c>$</c> and emoji and glue words across tabs and newlines.
/// Checked against the published bert-base-uncased ids, the vocabulary file itself, and golden ids from an independent
/// Python re-implementation of HF's BertTokenizer on hand-made edge cases and Amazon Alexa reviews (tests).
/// </remarks>
public sealed class WordPieceTokenizer
{
    /// <summary>Tokens added to a single text: <c>[CLS]</c> and <c>[SEP]</c>.</summary>
    public const int SpecialTokensSingle = 2;

    /// <summary>Tokens added to a pair: <c>[CLS]</c> and two <c>[SEP]</c>.</summary>
    public const int SpecialTokensPair = 3;

    private readonly BertTokenizer _bert;

    private WordPieceTokenizer(BertTokenizer bert, int vocabSize, WordPieceTokenizerOptions options)
    {
        _bert = bert;
        VocabSize = vocabSize;
        Options = options;
    }

    /// <summary>Normalization settings this tokenizer was created with.</summary>
    public WordPieceTokenizerOptions Options { get; }

    /// <summary>Number of entries (lines) of the vocabulary; ids are 0 .. VocabSize-1.</summary>
    public int VocabSize { get; }

    /// <summary>Id of <c>[CLS]</c> (101 in bert-base-uncased).</summary>
    public int ClsId => _bert.ClassificationTokenId;

    /// <summary>Id of <c>[SEP]</c> (102 in bert-base-uncased).</summary>
    public int SepId => _bert.SeparatorTokenId;

    /// <summary>Id of <c>[PAD]</c> (0 in bert-base-uncased).</summary>
    public int PadId => _bert.PaddingTokenId;

    /// <summary>Id of <c>[UNK]</c> (100 in bert-base-uncased).</summary>
    public int UnkId => _bert.UnknownTokenId;

    /// <summary>Id of <c>[MASK]</c> (103 in bert-base-uncased).</summary>
    public int MaskId => _bert.MaskingTokenId;

    /// <summary>Loads a <c>vocab.txt</c> (one token per line, line index = id).</summary>
    public static WordPieceTokenizer FromVocabFile(string vocabPath, WordPieceTokenizerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vocabPath);
        if (!File.Exists(vocabPath))
        {
            throw new FileNotFoundException($"WordPiece vocabulary file '{vocabPath}' does not exist.", vocabPath);
        }

        using var stream = File.OpenRead(vocabPath);
        return FromVocabStream(stream, options, vocabPath);
    }

    /// <summary>Loads a vocabulary from a stream holding the text of a <c>vocab.txt</c>. The stream is read to its end, not disposed.</summary>
    public static WordPieceTokenizer FromVocabStream(Stream vocab, WordPieceTokenizerOptions? options = null) =>
        FromVocabStream(vocab, options, "<stream>");

    private static WordPieceTokenizer FromVocabStream(Stream vocab, WordPieceTokenizerOptions? options, string source)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        options ??= WordPieceTokenizerOptions.Uncased;
        options.Validate();

        // BertTokenizer does not expose its vocabulary, so buffer the text once to count the entries and find the specials.
        using var buffer = new MemoryStream();
        vocab.CopyTo(buffer);
        var summary = VocabFileSummary.Read(buffer.ToArray(), source);
        buffer.Position = 0;
        var bertOptions = new BertOptions
        {
            LowerCaseBeforeTokenization = options.LowerCase,
            RemoveNonSpacingMarks = options.EffectiveStripAccents,
            IndividuallyTokenizeCjk = options.TokenizeChineseChars,
            ApplyBasicTokenization = true,
            SplitOnSpecialTokens = true,
            MaxInputCharsPerWord = options.MaxInputCharsPerWord,
            PreTokenizer = HfBasicTokenization.CreatePreTokenizer(summary.SpecialTokens),
        };

        BertTokenizer bert;
        try
        {
            bert = BertTokenizer.Create(buffer, bertOptions);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException(
                $"WordPiece vocabulary '{source}' could not be loaded (it must hold one token per line, including [CLS], [SEP], [PAD], [UNK] and [MASK]): {ex.Message}",
                ex);
        }

        return new WordPieceTokenizer(bert, summary.Size, options);
    }

    /// <summary>Word pieces of <paramref name="text"/> without specials and without truncation.</summary>
    /// <param name="text">Text to split; must contain a non-whitespace character.</param>
    /// <param name="paramName">Argument name used in the error for empty text.</param>
    public IReadOnlyList<int> Tokenize(string text, string paramName = "text")
    {
        ThrowIfBlank(text, paramName);
        return _bert.EncodeToIds(HfBasicTokenization.Clean(text), addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);
    }

    /// <summary>Number of tokens of <c>[CLS] text [SEP]</c> before truncation, for length bucketing.</summary>
    public int CountTokens(string text) => Tokenize(text).Count + SpecialTokensSingle;

    /// <summary>Number of tokens of <c>[CLS] text [SEP] pair [SEP]</c> before truncation.</summary>
    public int CountTokens(string text, string pair) => Tokenize(text).Count + Tokenize(pair, nameof(pair)).Count + SpecialTokensPair;

    /// <summary>
    /// Encodes one text, or a sentence pair when <paramref name="pair"/> is not null, with specials.
    /// When <paramref name="maxLength"/> is given the result is truncated to at most that many tokens
    /// (pairs: <c>longest_first</c>); no padding.
    /// </summary>
    public EncodedSequence Encode(string text, string? pair = null, int? maxLength = null)
    {
        if (maxLength is int max)
        {
            ValidateMaxLength(max, pair is not null);
        }

        var first = Tokenize(text);
        var second = pair is null ? null : Tokenize(pair, nameof(pair));
        return Assemble(first, second, maxLength ?? int.MaxValue);
    }

    /// <summary>
    /// Encodes a batch of texts (and optionally their pairs, one per text), truncates each row to
    /// <paramref name="maxLength"/> tokens and right-pads to the length chosen by <paramref name="padding"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A text or pair is empty or whitespace-only; the message names its row.</exception>
    public EncodedBatch EncodeBatch(
        IReadOnlyList<string> texts,
        IReadOnlyList<string>? pairs,
        int maxLength,
        PaddingMode padding = PaddingMode.Longest)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0)
        {
            throw new ArgumentException("The batch is empty: at least one text is required.", nameof(texts));
        }

        if (pairs is not null && pairs.Count != texts.Count)
        {
            throw new ArgumentException($"Got {texts.Count} texts but {pairs.Count} pairs; a pair is needed for every text.", nameof(pairs));
        }

        ValidateMaxLength(maxLength, pairs is not null);
        var rows = new EncodedSequence[texts.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            var first = TokenizeRow(texts, i, nameof(texts));
            var second = pairs is null ? null : TokenizeRow(pairs, i, nameof(pairs));
            rows[i] = Assemble(first, second, maxLength);
        }

        int sequenceLength = padding switch
        {
            PaddingMode.Longest => rows.Max(r => r.Length),
            PaddingMode.MaxLength => maxLength,
            _ => throw new ArgumentOutOfRangeException(nameof(padding), padding, "Expected PaddingMode.Longest or PaddingMode.MaxLength."),
        };

        return Pad(rows, sequenceLength);
    }

    private IReadOnlyList<int> TokenizeRow(IReadOnlyList<string> values, int row, string paramName)
    {
        string? value = values[row];
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException(
                $"{paramName}[{row}] is {(value is null ? "null" : "empty or whitespace-only")}; every input row needs some text.", paramName);
        }

        return _bert.EncodeToIds(HfBasicTokenization.Clean(value), addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);
    }

    private EncodedSequence Assemble(IReadOnlyList<int> first, IReadOnlyList<int>? second, int maxLength)
    {
        if (second is null)
        {
            int keep = (int)Math.Min(first.Count, (long)maxLength - SpecialTokensSingle);
            var ids = new int[keep + SpecialTokensSingle];
            ids[0] = ClsId;
            for (int i = 0; i < keep; i++)
            {
                ids[i + 1] = first[i];
            }

            ids[^1] = SepId;
            return new EncodedSequence(ids, new int[ids.Length]);
        }

        int budget = (int)Math.Min(int.MaxValue - SpecialTokensPair, (long)maxLength - SpecialTokensPair);
        var (keepFirst, keepSecond) = LongestFirstTruncation.KeptLengths(first.Count, second.Count, budget);
        var pairIds = new int[keepFirst + keepSecond + SpecialTokensPair];
        var typeIds = new int[pairIds.Length];
        int at = 0;
        pairIds[at++] = ClsId;
        for (int i = 0; i < keepFirst; i++)
        {
            pairIds[at++] = first[i];
        }

        pairIds[at++] = SepId;
        int secondStart = at;
        for (int i = 0; i < keepSecond; i++)
        {
            pairIds[at++] = second[i];
        }

        pairIds[at] = SepId;
        Array.Fill(typeIds, 1, secondStart, pairIds.Length - secondStart);
        return new EncodedSequence(pairIds, typeIds);
    }

    private EncodedBatch Pad(EncodedSequence[] rows, int sequenceLength)
    {
        long total = (long)rows.Length * sequenceLength;
        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"A batch of {rows.Length} rows x {sequenceLength} tokens is too large for one array.");
        }

        var inputIds = new long[total];
        var attentionMask = new long[total];
        var tokenTypeIds = new long[total];
        Array.Fill(inputIds, PadId);
        for (int b = 0; b < rows.Length; b++)
        {
            var row = rows[b];
            int offset = b * sequenceLength;
            for (int t = 0; t < row.Length; t++)
            {
                inputIds[offset + t] = row.InputIds[t];
                attentionMask[offset + t] = 1;
                tokenTypeIds[offset + t] = row.TokenTypeIds[t];
            }
        }

        return new EncodedBatch(inputIds, attentionMask, tokenTypeIds, rows.Length, sequenceLength);
    }

    private static void ValidateMaxLength(int maxLength, bool isPair)
    {
        int minimum = (isPair ? SpecialTokensPair : SpecialTokensSingle) + 1;
        if (maxLength < minimum)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxLength), maxLength,
                $"maxLength must be at least {minimum} for {(isPair ? "sentence pairs" : "single texts")}, to hold the special tokens and one word piece.");
        }
    }

    private static void ThrowIfBlank(string? text, string paramName)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException($"{paramName} is {(text is null ? "null" : "empty or whitespace-only")}; there is nothing to tokenize.", paramName);
        }
    }
}
