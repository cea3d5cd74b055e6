using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FineTune.MLNet.Formats.Json;

namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>
/// The parts of a Hugging Face <c>tokenizer.json</c> that a decoder-LLM BPE tokenizer needs (Llama, Mistral,
/// Qwen2 families). Only <c>model.type: "BPE"</c> is accepted; unsupported normalizers, pre-tokenizers or decoders
/// are rejected with an error naming the file and the JSON path rather than silently tokenizing differently.
/// </summary>
internal sealed record HfTokenizerJson
{
    public required Dictionary<string, int> Vocab { get; init; }
    public required List<(string Left, string Right)> Merges { get; init; }
    public string? UnkToken { get; init; }
    public bool FuseUnk { get; init; }
    public bool ByteFallback { get; init; }
    public bool IgnoreMerges { get; init; }
    public required List<HfAddedToken> AddedTokens { get; init; }
    public HfNormalizer? Normalizer { get; init; }
    public HfPreTokenizer? PreTokenizer { get; init; }
    public required HfDecoder Decoder { get; init; }

    /// <summary>Ids a <c>TemplateProcessing</c> post-processor puts before / after a single sequence; null when there is none.</summary>
    public IReadOnlyList<int>? TemplatePrefix { get; init; }
    public IReadOnlyList<int>? TemplateSuffix { get; init; }

    public static HfTokenizerJson Load(string path)
    {
        using var doc = ParseFile(path);
        var r = new JsonFields(Path.GetFileName(path));
        var root = doc.RootElement;
        var model = r.Required(root, "model", JsonValueKind.Object);
        string type = r.String(model, "type", "model.type") ?? (model.TryGetProperty("merges", out _) ? "BPE" : "");
        if (type != "BPE")
            throw r.Error("model.type", $"'{type}' is not supported: only BPE tokenizers (Llama, Mistral, Qwen2 families) can be loaded; WordPiece and Unigram are not.");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
            throw r.Error("model.dropout", "BPE dropout is not supported; expected null.");
        foreach (var field in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (r.String(model, field, "model." + field) is { Length: > 0 })
                throw r.Error("model." + field, "is not supported; expected null (decoder-LLM BPE has none).");

        var vocabJson = r.Required(model, "vocab", JsonValueKind.Object, "model.vocab");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabJson.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw r.Error($"model.vocab[\"{entry.Name}\"]", "expected a non-negative integer id.");
            vocab[entry.Name] = id;
        }

        string? unkToken = r.String(model, "unk_token", "model.unk_token");
        if (unkToken is not null && !vocab.ContainsKey(unkToken))
            throw r.Error("model.unk_token", $"'{unkToken}' is not in model.vocab.");
        var added = ReadAddedTokens(r, root);
        var (prefix, suffix) = ReadTemplate(r, JsonFields.Get(root, "post_processor"), "post_processor", vocab, added);
        return new HfTokenizerJson
        {
            Vocab = vocab,
            Merges = ReadMerges(r, model),
            UnkToken = unkToken,
            FuseUnk = r.Bool(model, "fuse_unk", false),
            ByteFallback = r.Bool(model, "byte_fallback", false),
            IgnoreMerges = r.Bool(model, "ignore_merges", false),
            AddedTokens = added,
            Normalizer = ReadNormalizer(r, JsonFields.Get(root, "normalizer"), "normalizer"),
            PreTokenizer = ReadPreTokenizer(r, JsonFields.Get(root, "pre_tokenizer"), "pre_tokenizer"),
            Decoder = ReadDecoder(r, JsonFields.Get(root, "decoder"), "decoder") ?? new HfDecoder.JoinWithSpaces(),
            TemplatePrefix = prefix,
            TemplateSuffix = suffix,
        };
    }

    internal static JsonDocument ParseFile(string path)
    {
        string name = Path.GetFileName(path);
        return JsonInput.ParseFile(path, name, (problem, inner) => new InvalidDataException($"{name} {problem}.", inner));
    }

    private static List<(string, string)> ReadMerges(JsonFields r, JsonElement model)
    {
        var merges = new List<(string, string)>();
        if (!model.TryGetProperty("merges", out var json) || json.ValueKind == JsonValueKind.Null) return merges;
        if (json.ValueKind != JsonValueKind.Array) throw r.Error("model.merges", "expected an array of \"a b\" strings or [a, b] pairs.");
        int i = 0;
        foreach (var m in json.EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                var parts = m.GetString()!.Split(' ');
                if (parts.Length != 2) throw r.Error($"model.merges[{i}]", $"'{m.GetString()}' is not two tokens separated by one space.");
                merges.Add((parts[0], parts[1]));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            else
                throw r.Error($"model.merges[{i}]", "expected a \"a b\" string or an [a, b] pair of strings.");
            i++;
        }
        return merges;
    }

    private static List<HfAddedToken> ReadAddedTokens(JsonFields r, JsonElement root)
    {
        var list = new List<HfAddedToken>();
        if (JsonFields.Get(root, "added_tokens") is not { } json) return list;
        if (json.ValueKind != JsonValueKind.Array) throw r.Error("added_tokens", "expected an array.");
        int i = 0;
        foreach (var t in json.EnumerateArray())
        {
            string at = $"added_tokens[{i++}]";
            if (t.ValueKind != JsonValueKind.Object) throw r.Mistyped(at, "an object", t);
            if (!t.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.Number || !id.TryGetInt32(out int idValue) || idValue < 0) throw r.Error(at + ".id", "expected an integer.");
            string content = r.String(t, "content", at + ".content") ?? throw r.Error(at + ".content", "is missing.");
            list.Add(new HfAddedToken(idValue, content, r.Bool(t, "special", false), r.Bool(t, "lstrip", false),
                r.Bool(t, "rstrip", false), r.Bool(t, "single_word", false)));
        }
        return list;
    }

    private static HfNormalizer? ReadNormalizer(JsonFields r, JsonElement? json, string at)
    {
        if (json is not { } n) return null;
        string type = r.Type(n, at);
        return type switch
        {
            "Sequence" => new HfNormalizer.Sequence(r.Items(n, "normalizers", at).Select((e, i) => ReadNormalizer(r, e, $"{at}.normalizers[{i}]")!).ToList()),
            "Prepend" => new HfNormalizer.Prepend(r.String(n, "prepend", at + ".prepend") ?? throw r.Error(at + ".prepend", "is missing.")),
            "Replace" => new HfNormalizer.Replace(ReadPattern(r, n, at), r.String(n, "content", at + ".content") ?? ""),
            "NFC" => new HfNormalizer.Unicode(NormalizationForm.FormC),
            "NFD" => new HfNormalizer.Unicode(NormalizationForm.FormD),
            "NFKC" => new HfNormalizer.Unicode(NormalizationForm.FormKC),
            "NFKD" => new HfNormalizer.Unicode(NormalizationForm.FormKD),
            "Lowercase" => new HfNormalizer.Lowercase(),
            _ => throw r.Error(at + ".type", $"normalizer '{type}' is not supported (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase)."),
        };
    }

    private static HfPreTokenizer? ReadPreTokenizer(JsonFields r, JsonElement? json, string at)
    {
        if (json is not { } p) return null;
        string type = r.Type(p, at);
        switch (type)
        {
            case "Sequence":
                return new HfPreTokenizer.Sequence(r.Items(p, "pretokenizers", at).Select((e, i) => ReadPreTokenizer(r, e, $"{at}.pretokenizers[{i}]")!).ToList());
            case "ByteLevel":
                return new HfPreTokenizer.ByteLevel(r.Bool(p, "add_prefix_space", true), r.Bool(p, "use_regex", true));
            case "Metaspace":
                return new HfPreTokenizer.Metaspace(ReadReplacement(r, p, at), ReadPrependScheme(r, p, at), r.Bool(p, "split", true));
            case "Split":
                if (r.Bool(p, "invert", false)) throw r.Error(at + ".invert", "inverted Split is not supported; expected false.");
                string behavior = r.String(p, "behavior", at + ".behavior") ?? "Isolated";
                if (!Enum.TryParse<SplitBehavior>(behavior, out var b))
                    throw r.Error(at + ".behavior", $"'{behavior}' is not one of Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous.");
                return new HfPreTokenizer.RegexSplit(ReadPattern(r, p, at), b);
            default:
                throw r.Error(at + ".type", $"pre-tokenizer '{type}' is not supported (supported: Sequence, ByteLevel, Split, Metaspace).");
        }
    }

    private static HfDecoder? ReadDecoder(JsonFields r, JsonElement? json, string at)
    {
        if (json is not { } d) return null;
        string type = r.Type(d, at);
        return type switch
        {
            "Sequence" => new HfDecoder.Sequence(r.Items(d, "decoders", at).Select((e, i) => ReadDecoder(r, e, $"{at}.decoders[{i}]")!).ToList()),
            "ByteLevel" => new HfDecoder.ByteLevel(),
            "ByteFallback" => new HfDecoder.ByteFallback(),
            "Fuse" => new HfDecoder.Fuse(),
            "Replace" => new HfDecoder.Replace(ReadPattern(r, d, at), r.String(d, "content", at + ".content") ?? ""),
            "Strip" => new HfDecoder.Strip(ReadChar(r, d, "content", at), r.RequiredInt(d, "start", $"{at}.start"), r.RequiredInt(d, "stop", $"{at}.stop")),
            "Metaspace" => new HfDecoder.Metaspace(ReadReplacement(r, d, at), ReadPrependScheme(r, d, at)),
            _ => throw r.Error(at + ".type", $"decoder '{type}' is not supported (supported: Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace)."),
        };
    }

    /// <summary>Reads the single-sequence template of a <c>TemplateProcessing</c> post-processor (also inside a <c>Sequence</c>).</summary>
    private static (IReadOnlyList<int>?, IReadOnlyList<int>?) ReadTemplate(JsonFields r, JsonElement? json, string at,
        Dictionary<string, int> vocab, List<HfAddedToken> added)
    {
        if (json is not { } p) return (null, null);
        string type = r.Type(p, at);
        if (type == "Sequence")
        {
            int i = 0;
            foreach (var inner in r.Items(p, "processors", at))
            {
                var found = ReadTemplate(r, inner, $"{at}.processors[{i++}]", vocab, added);
                if (found.Item1 is not null) return found;
            }
            return (null, null);
        }
        if (type != "TemplateProcessing") return (null, null); // ByteLevel etc. add no ids
        var prefix = new List<int>();
        var suffix = new List<int>();
        bool seenSequence = false;
        int k = 0;
        foreach (var piece in r.Items(p, "single", at))
        {
            string pieceAt = $"{at}.single[{k++}]";
            if (piece.ValueKind != JsonValueKind.Object) throw r.Mistyped(pieceAt, "an object", piece);
            if (piece.TryGetProperty("Sequence", out _)) { seenSequence = true; continue; }
            if (!piece.TryGetProperty("SpecialToken", out var special) || r.String(special, "id", pieceAt + ".SpecialToken.id") is not { } name)
                throw r.Error(pieceAt, "expected {\"Sequence\": ...} or {\"SpecialToken\": {\"id\": ...}}.");
            (seenSequence ? suffix : prefix).AddRange(TemplateIds(r, p, name, at, vocab, added));
        }
        return (prefix, suffix);
    }

    private static IEnumerable<int> TemplateIds(JsonFields r, JsonElement processor, string name, string at,
        Dictionary<string, int> vocab, List<HfAddedToken> added)
    {
        if (r.Object(processor, "special_tokens", $"{at}.special_tokens") is { } specials
            && r.Object(specials, name, $"{at}.special_tokens[\"{name}\"]") is { } entry
            && JsonFields.Get(entry, "ids") is { ValueKind: JsonValueKind.Array } ids)
            return ids.EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int id) && id >= 0
                ? id : throw r.Mistyped($"{at}.special_tokens[\"{name}\"].ids[{i}]", "a non-negative integer id", e)).ToList();
        if (added.FirstOrDefault(a => a.Content == name) is { } token) return [token.Id];
        if (vocab.TryGetValue(name, out int id)) return [id];
        throw r.Error($"{at}.special_tokens", $"template token '{name}' has no id.");
    }

    private static Regex ReadPattern(JsonFields r, JsonElement element, string at)
    {
        var pattern = r.Required(element, "pattern", JsonValueKind.Object, at + ".pattern");
        if (pattern.TryGetProperty("String", out var s) && s.ValueKind == JsonValueKind.String)
            return new Regex(Regex.Escape(s.GetString()!), RegexOptions.CultureInvariant);
        if (pattern.TryGetProperty("Regex", out var re) && re.ValueKind == JsonValueKind.String)
        {
            try { return new Regex(re.GetString()!, RegexOptions.Compiled | RegexOptions.CultureInvariant); }
            catch (ArgumentException e) { throw r.Error(at + ".pattern.Regex", $"is not a valid .NET regex: {e.Message}"); }
        }
        throw r.Error(at + ".pattern", "expected {\"String\": \"...\"} or {\"Regex\": \"...\"}.");
    }

    private static char ReadReplacement(JsonFields r, JsonElement element, string at) => ReadChar(r, element, "replacement", at);

    private static char ReadChar(JsonFields r, JsonElement element, string field, string at)
    {
        string? s = r.String(element, field, $"{at}.{field}");
        return s is { Length: 1 } ? s[0] : throw r.Error($"{at}.{field}", $"expected a single character, got '{s}'.");
    }

    private static MetaspacePrepend ReadPrependScheme(JsonFields r, JsonElement element, string at)
    {
        if (r.String(element, "prepend_scheme", at + ".prepend_scheme") is { } scheme)
            return scheme switch
            {
                "always" => MetaspacePrepend.Always,
                "first" => MetaspacePrepend.First,
                "never" => MetaspacePrepend.Never,
                _ => throw r.Error(at + ".prepend_scheme", $"'{scheme}' is not one of always, first, never."),
            };
        return r.Bool(element, "add_prefix_space", true) ? MetaspacePrepend.Always : MetaspacePrepend.Never; // pre-0.15 files
    }
}
