using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.MLNet.Formats.Gguf;

namespace FineTune.MLNet.Import.Gguf;

/// <summary>
/// Builds <c>tokenizer.json</c> and <c>tokenizer_config.json</c> from a GGUF file's <c>tokenizer.ggml.*</c> metadata:
/// <c>llama</c> (SentencePiece BPE with scores and byte tokens) becomes the BPE + byte-fallback layout of HF's
/// <c>LlamaTokenizerFast</c> (legacy: a "▁" prepended, spaces as "▁"; merges from the scores, see
/// <see cref="SentencePieceMerges"/>); <c>gpt2</c> (byte-level BPE with merges) becomes a ByteLevel tokenizer whose
/// pre-tokenizer follows <c>tokenizer.ggml.pre</c> (<see cref="BpePreTokenizerPatterns"/>).
/// </summary>
public static class GgufTokenizerImporter
{
    /// <summary>tokenizer.json and tokenizer_config.json texts.</summary>
    public static (string TokenizerJson, string TokenizerConfigJson) Build(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var model = file.GetString("tokenizer.ggml.model")
            ?? throw new GgufFormatException(file.Name, "metadata[\"tokenizer.ggml.model\"]", "is missing: the file has no tokenizer.");
        var tokens = file.GetStringArray("tokenizer.ggml.tokens")
            ?? throw new GgufFormatException(file.Name, "metadata[\"tokenizer.ggml.tokens\"]", "is missing.");
        var types = file.GetIntArray("tokenizer.ggml.token_type") ?? [.. tokens.Select(_ => (int)GgufTokenType.Normal)];
        if (types.Length != tokens.Length)
            throw new GgufFormatException(file.Name, "metadata[\"tokenizer.ggml.token_type\"]", $"has {types.Length} entries for {tokens.Length} tokens.");
        var duplicate = tokens.GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new NotSupportedException($"GGUF file '{file.Name}': token '{duplicate.Key}' appears {duplicate.Count()} times; a tokenizer.json vocabulary needs unique tokens.");

        var special = new Special(file, tokens);
        JsonObject json = model switch
        {
            "llama" => SentencePiece(file, tokens, types, special),
            "gpt2" => ByteLevel(file, tokens, types, special),
            _ => throw new NotSupportedException($"GGUF file '{file.Name}': tokenizer.ggml.model '{model}' is not supported (llama, gpt2)."),
        };
        return (Serialize(json), Serialize(Config(file, tokens, types, special)));
    }

    private static JsonObject SentencePiece(GgufFile file, string[] tokens, int[] types, Special special)
    {
        var scores = file.GetFloatArray("tokenizer.ggml.scores") ?? new float[tokens.Length];
        if (scores.Length != tokens.Length)
            throw new GgufFormatException(file.Name, "metadata[\"tokenizer.ggml.scores\"]", $"has {scores.Length} entries for {tokens.Length} tokens.");
        bool Mergeable(int id) => (GgufTokenType)types[id] is GgufTokenType.Normal or GgufTokenType.Undefined or GgufTokenType.UserDefined;
        var merges = SentencePieceMerges.From(tokens, scores, Mergeable);
        bool addSpacePrefix = file.GetBool("tokenizer.ggml.add_space_prefix") ?? true;
        var normalizers = new JsonArray();
        if (addSpacePrefix) normalizers.Add(new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" });
        normalizers.Add(new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" });
        var decoders = new JsonArray
        {
            new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
            new JsonObject { ["type"] = "ByteFallback" },
            new JsonObject { ["type"] = "Fuse" },
        };
        if (addSpacePrefix) decoders.Add(new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 });
        return Document(tokens, types, special,
            normalizer: new JsonObject { ["type"] = "Sequence", ["normalizers"] = normalizers },
            preTokenizer: null,
            decoder: new JsonObject { ["type"] = "Sequence", ["decoders"] = decoders },
            model: BpeModel(tokens, merges, special.Unk is int unk ? tokens[unk] : null, byteFallback: true));
    }

    private static JsonObject ByteLevel(GgufFile file, string[] tokens, int[] types, Special special)
    {
        var mergeTexts = file.GetStringArray("tokenizer.ggml.merges")
            ?? throw new GgufFormatException(file.Name, "metadata[\"tokenizer.ggml.merges\"]", "is missing (a gpt2 tokenizer needs its merges).");
        var merges = new List<(string, string)>(mergeTexts.Length);
        for (int i = 0; i < mergeTexts.Length; i++)
        {
            var parts = mergeTexts[i].Split(' ');
            if (parts.Length != 2) throw new GgufFormatException(file.Name, $"metadata[\"tokenizer.ggml.merges\"][{i}]", $"'{mergeTexts[i]}' is not two tokens separated by one space.");
            merges.Add((parts[0], parts[1]));
        }
        string pre = file.GetString("tokenizer.ggml.pre") ?? BpePreTokenizerPatterns.Gpt2;
        if (pre == "default") pre = BpePreTokenizerPatterns.Gpt2;
        if (!BpePreTokenizerPatterns.Supported.Contains(pre))
            throw new NotSupportedException($"GGUF file '{file.Name}': tokenizer.ggml.pre '{pre}' has no tokenizer.json form here (supported: {string.Join(", ", BpePreTokenizerPatterns.Supported)}).");
        JsonObject ByteLevelStep(bool useRegex) => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = useRegex };
        JsonObject preTokenizer = BpePreTokenizerPatterns.RegexOf(pre) is { } regex
            ? new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray
                {
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = regex }, ["behavior"] = "Isolated", ["invert"] = false },
                    ByteLevelStep(useRegex: false),
                },
            }
            : ByteLevelStep(useRegex: true);
        return Document(tokens, types, special, normalizer: null, preTokenizer: preTokenizer,
            decoder: new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            model: BpeModel(tokens, merges, unk: null, byteFallback: false));
    }

    private static JsonObject Document(string[] tokens, int[] types, Special special, JsonNode? normalizer, JsonNode? preTokenizer, JsonNode decoder, JsonObject model)
    {
        var added = new JsonArray();
        for (int id = 0; id < tokens.Length; id++)
        {
            var type = (GgufTokenType)types[id];
            if (type is not (GgufTokenType.Control or GgufTokenType.Unknown or GgufTokenType.UserDefined)) continue;
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = tokens[id], ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = type == GgufTokenType.UserDefined, ["special"] = type != GgufTokenType.UserDefined,
            });
        }
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = PostProcessor(tokens, special),
            ["decoder"] = decoder,
            ["model"] = model,
        };
    }

    private static JsonObject PostProcessor(string[] tokens, Special special)
    {
        var single = new JsonArray();
        var pair = new JsonArray();
        var specials = new JsonObject();
        void AddSpecial(int id, JsonArray target, int typeId)
        {
            target.Add(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = tokens[id], ["type_id"] = typeId } });
            specials[tokens[id]] = new JsonObject { ["id"] = tokens[id], ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(tokens[id]) };
        }
        foreach (var (sequence, typeId, target) in new[] { ("A", 0, single), ("A", 0, pair), ("B", 1, pair) })
        {
            if (special.AddBos && special.Bos is int bos) AddSpecial(bos, target, typeId);
            target.Add(new JsonObject { ["Sequence"] = new JsonObject { ["id"] = sequence, ["type_id"] = typeId } });
            if (special.AddEos && special.Eos is int eos) AddSpecial(eos, target, typeId);
        }
        return new JsonObject { ["type"] = "TemplateProcessing", ["single"] = single, ["pair"] = pair, ["special_tokens"] = specials };
    }

    private static JsonObject BpeModel(string[] tokens, List<(string Left, string Right)> merges, string? unk, bool byteFallback)
    {
        var vocab = new JsonObject();
        for (int id = 0; id < tokens.Length; id++) vocab[tokens[id]] = id;
        return new JsonObject
        {
            ["type"] = "BPE",
            ["dropout"] = null,
            ["unk_token"] = unk,
            ["continuing_subword_prefix"] = null,
            ["end_of_word_suffix"] = null,
            ["fuse_unk"] = byteFallback,
            ["byte_fallback"] = byteFallback,
            ["ignore_merges"] = false,
            ["vocab"] = vocab,
            ["merges"] = new JsonArray([.. merges.Select(m => (JsonNode)new JsonArray(m.Left, m.Right))]),
        };
    }

    private static JsonObject Config(GgufFile file, string[] tokens, int[] types, Special special)
    {
        var decoderTokens = new JsonObject();
        for (int id = 0; id < tokens.Length; id++)
        {
            var type = (GgufTokenType)types[id];
            if (type is not (GgufTokenType.Control or GgufTokenType.Unknown or GgufTokenType.UserDefined)) continue;
            decoderTokens[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = tokens[id], ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = type == GgufTokenType.UserDefined, ["special"] = type != GgufTokenType.UserDefined,
            };
        }
        var config = new JsonObject
        {
            ["add_bos_token"] = special.AddBos,
            ["add_eos_token"] = special.AddEos,
            ["bos_token"] = special.Bos is int b ? tokens[b] : null,
            ["eos_token"] = special.Eos is int e ? tokens[e] : null,
            ["unk_token"] = special.Unk is int u ? tokens[u] : null,
            ["pad_token"] = special.Pad is int p ? tokens[p] : null,
            ["clean_up_tokenization_spaces"] = false,
            ["model_max_length"] = file.GetInteger("llama.context_length") ?? 2048,
            ["tokenizer_class"] = file.GetString("tokenizer.ggml.model") == "llama" ? "LlamaTokenizerFast" : "PreTrainedTokenizerFast",
            ["added_tokens_decoder"] = decoderTokens,
        };
        if (file.GetString("tokenizer.ggml.model") == "llama") config["legacy"] = true;
        if (file.GetString("tokenizer.chat_template") is { } template) config["chat_template"] = template;
        return config;
    }

    private static string Serialize(JsonObject json) => json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Special token ids and the add-bos/eos flags, each id checked to be a token.</summary>
    private sealed class Special
    {
        public Special(GgufFile file, string[] tokens)
        {
            int? Id(string key)
            {
                if (file.GetInteger(key) is not long v) return null;
                if (v < 0 || v >= tokens.Length) throw new GgufFormatException(file.Name, $"metadata[\"{key}\"]", $"{v} is not a token id (0..{tokens.Length - 1}).");
                return (int)v;
            }
            Bos = Id("tokenizer.ggml.bos_token_id");
            Eos = Id("tokenizer.ggml.eos_token_id");
            Unk = Id("tokenizer.ggml.unknown_token_id");
            Pad = Id("tokenizer.ggml.padding_token_id");
            AddBos = file.GetBool("tokenizer.ggml.add_bos_token") ?? (file.GetString("tokenizer.ggml.model") == "llama" && Bos is not null);
            AddEos = file.GetBool("tokenizer.ggml.add_eos_token") ?? false;
        }

        public int? Bos { get; }
        public int? Eos { get; }
        public int? Unk { get; }
        public int? Pad { get; }
        public bool AddBos { get; }
        public bool AddEos { get; }
    }
}
