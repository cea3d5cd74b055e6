namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>
/// A decoder-LLM tokenizer loaded from a Hugging Face checkpoint folder (Llama incl. TinyLlama / SmolLM /
/// Llama-2 / Llama-3, Mistral, Qwen2).
/// </summary>
/// <remarks>
/// <para>With <c>tokenizer.json</c>, the BPE model, normalizer, pre-tokenizer (ByteLevel, Split regex, Metaspace,
/// Sequence) and decoder are run as the file describes by this library's own BPE (<see cref="BpeMerger"/>):
/// Microsoft.ML.Tokenizers' BpeTokenizer / CodeGenTokenizer cannot express byte_fallback tokens, ignore_merges,
/// Metaspace <c>prepend_scheme: first</c> or per-segment added-token handling. Checked id-for-id against the
/// Hugging Face <c>tokenizers</c> Rust library on the test fixtures.</para>
/// <para>With only a SentencePiece <c>tokenizer.model</c>, Microsoft.ML.Tokenizers' <c>LlamaTokenizer</c> is used.</para>
/// <para>Special and added tokens written in the text (<c>&lt;|im_start|&gt;</c>) are always recognised as single
/// ids. BOS / EOS are added per <c>add_bos_token</c> / <c>add_eos_token</c> of <c>tokenizer_config.json</c>, or,
/// when it does not say, per the <c>TemplateProcessing</c> post-processor of <c>tokenizer.json</c> (Llama-3).</para>
/// <para>Not applied: <c>clean_up_tokenization_spaces</c> on decode, truncation and padding (callers do those).</para>
/// </remarks>
public sealed class HfTokenizer
{
    private const string JsonFileName = "tokenizer.json";

    private readonly IHfTokenModel _model;
    private readonly AddedTokenSplitter _splitter;
    private readonly IReadOnlyList<int> _prefix;
    private readonly IReadOnlyList<int> _suffix;
    private readonly HashSet<int> _specialSet;

    private HfTokenizer(IHfTokenModel model, IReadOnlyList<HfAddedToken> added, HfTokenizerConfig config,
        IReadOnlyList<int>? templatePrefix, IReadOnlyList<int>? templateSuffix, int? defaultBos, int? defaultEos)
    {
        _model = model;
        _splitter = new AddedTokenSplitter(added);
        BosId = ResolveConfigToken(config.BosToken, "bos_token") ?? defaultBos;
        EosId = ResolveConfigToken(config.EosToken, "eos_token") ?? defaultEos;
        PadId = ResolveConfigToken(config.PadToken, "pad_token");
        UnkId = ResolveConfigToken(config.UnkToken, "unk_token");
        ChatTemplate = config.ChatTemplate;
        ModelMaxLength = config.ModelMaxLength;
        VocabSize = Math.Max(model.IdLimit, added.Count == 0 ? 0 : added.Max(a => a.Id) + 1);

        _prefix = config.AddBosToken switch
        {
            true => [BosId ?? throw new InvalidDataException($"{HfTokenizerConfig.FileName}: 'add_bos_token' is true but there is no bos_token.")],
            false => [],
            null => templatePrefix ?? [],
        };
        _suffix = config.AddEosToken switch
        {
            true => [EosId ?? throw new InvalidDataException($"{HfTokenizerConfig.FileName}: 'add_eos_token' is true but there is no eos_token.")],
            false => [],
            null => templateSuffix ?? [],
        };

        var special = new HashSet<int>(added.Where(a => a.Special).Select(a => a.Id));
        foreach (var id in new[] { BosId, EosId, PadId, UnkId }) if (id is int i) special.Add(i);
        SpecialIds = special;
        _specialSet = special;
    }

    /// <summary>Loads the tokenizer of a Hugging Face checkpoint folder: <c>tokenizer.json</c> (preferred) or
    /// <c>tokenizer.model</c>, plus <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c> and
    /// <c>chat_template.jinja</c> / <c>chat_template.json</c> when present.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither <c>tokenizer.json</c> nor <c>tokenizer.model</c> is in it.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or uses an unsupported feature; the message names the file and field.</exception>
    public static HfTokenizer FromFolder(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Tokenizer folder '{dir}' does not exist.");
        var config = HfTokenizerConfig.Load(dir);

        string jsonPath = Path.Combine(dir, JsonFileName);
        if (File.Exists(jsonPath))
        {
            var json = HfTokenizerJson.Load(jsonPath);
            var added = json.AddedTokens.Concat(config.AddedTokens.Where(c => json.AddedTokens.All(a => a.Id != c.Id))).ToList();
            var model = new JsonBpeModel(json with { AddedTokens = added });
            return new HfTokenizer(model, added, config, json.TemplatePrefix, json.TemplateSuffix, null, null);
        }

        string spPath = Path.Combine(dir, SentencePieceModel.FileName);
        if (File.Exists(spPath))
        {
            var sp = new SentencePieceModel(spPath, config.AddedTokens);
            return new HfTokenizer(sp, config.AddedTokens, config, [sp.BosId], null, sp.BosId, sp.EosId);
        }
        throw new FileNotFoundException($"Neither {JsonFileName} nor {SentencePieceModel.FileName} was found in '{dir}'.");
    }

    /// <summary>Beginning-of-sequence token id (<c>bos_token</c>), if any.</summary>
    public int? BosId { get; }

    /// <summary>End-of-sequence token id (<c>eos_token</c>; for ChatML models usually <c>&lt;|im_end|&gt;</c>), if any.</summary>
    public int? EosId { get; }

    /// <summary>Padding token id (<c>pad_token</c>), if any.</summary>
    public int? PadId { get; }

    /// <summary>Unknown token id (<c>unk_token</c>), if any.</summary>
    public int? UnkId { get; }

    /// <summary>The Jinja chat template of the checkpoint, if any.</summary>
    public string? ChatTemplate { get; }

    /// <summary><c>model_max_length</c> of <c>tokenizer_config.json</c>, if set to a real limit.</summary>
    public int? ModelMaxLength { get; }

    /// <summary>Largest token id plus one (model vocabulary and added tokens): the minimum embedding rows.</summary>
    public int VocabSize { get; }

    /// <summary>Ids of special added tokens and of the BOS / EOS / PAD / UNK tokens.</summary>
    public IReadOnlySet<int> SpecialIds { get; }

    /// <summary>Encodes <paramref name="text"/>; added tokens written in the text become single ids.</summary>
    /// <param name="text">Input text.</param>
    /// <param name="addSpecialTokens">Add BOS / EOS as the checkpoint configures (see remarks of the class).</param>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens) ids.AddRange(_prefix);
        foreach (var piece in _splitter.Split(text))
        {
            if (piece.Token is { } token) ids.Add(token.Id);
            else _model.EncodeSegment(piece.Text!, piece.Start == 0, ids);
        }
        if (addSpecialTokens) ids.AddRange(_suffix);
        return ids;
    }

    /// <summary>Decodes ids to text.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecialTokens">Drop the ids in <see cref="SpecialIds"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var kept = skipSpecialTokens ? ids.Where(id => !_specialSet.Contains(id)).ToList() : ids.ToList();
        return _model.Decode(kept);
    }

    /// <summary>Id of a token string (model vocabulary or added token), e.g. <c>TokenToId("&lt;|im_end|&gt;")</c>.</summary>
    /// <exception cref="KeyNotFoundException">The token is not in the vocabulary.</exception>
    public int TokenToId(string token) =>
        TryTokenToId(token, out int id) ? id : throw new KeyNotFoundException($"Token '{token}' is not in the tokenizer vocabulary.");

    /// <summary>Id of a token string, if it is in the vocabulary.</summary>
    public bool TryTokenToId(string token, out int id) => _model.TryGetId(token, out id);

    private int? ResolveConfigToken(string? token, string field)
    {
        if (token is null) return null;
        return _model.TryGetId(token, out int id) ? id
            : throw new InvalidDataException($"{HfTokenizerConfig.FileName}: '{field}' is '{token}', which is not in the tokenizer vocabulary.");
    }
}
