using FineTune.MLNet.Formats.HuggingFace;
using System.Text.Json;
using System.Text.RegularExpressions;
using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Import.Gguf;
using FineTune.MLNet.Models.Llama;

namespace FineTune.MLNet.Export.Gguf;

/// <summary>
/// <c>tokenizer.ggml.*</c> metadata from a model folder's <c>tokenizer.json</c> (+ <c>tokenizer_config.json</c>):
/// a SentencePiece-style BPE (byte fallback, "▁" for spaces) becomes llama.cpp's <c>llama</c> tokenizer, with
/// scores that replay the merge order (the piece made by merge r scores −r, so llama.cpp's highest-score-first
/// merging follows HF's lowest-rank-first); a byte-level BPE becomes <c>gpt2</c> with its merges and the
/// <c>tokenizer.ggml.pre</c> that names its pre-tokenizer (<see cref="BpePreTokenizerPatterns"/>).
/// Ids up to the model's vocab size that the tokenizer lacks become <c>[PADi]</c> tokens of type UNUSED, as
/// <c>convert_hf_to_gguf.py</c> pads them.
/// </summary>
public static class GgufTokenizerExporter
{
    private static readonly Regex s_byteToken = new("^<0x[0-9A-Fa-f]{2}>$", RegexOptions.CultureInvariant);

    /// <summary>The metadata entries (in llama.cpp's usual order).</summary>
    public static List<KeyValuePair<string, GgufValue>> Build(string modelDir, LlamaConfig config)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDir);
        ArgumentNullException.ThrowIfNull(config);
        string path = Path.Combine(modelDir, "tokenizer.json");
        if (!File.Exists(path))
            throw new FileNotFoundException($"--model: '{modelDir}' has no tokenizer.json; a GGUF file carries its tokenizer, so one is needed.", path);
        using var doc = Parse(path);
        var root = doc.RootElement;
        using var configDoc = File.Exists(Path.Combine(modelDir, "tokenizer_config.json")) ? Parse(Path.Combine(modelDir, "tokenizer_config.json")) : null;
        var tokConfig = configDoc?.RootElement;

        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw Bad(path, "model", "is missing.");
        if (model.TryGetProperty("type", out var type) && type.GetString() != "BPE")
            throw new NotSupportedException($"{path}: model.type '{type.GetString()}' is not supported for GGUF export (BPE only).");
        if (!model.TryGetProperty("vocab", out var vocabJson) || vocabJson.ValueKind != JsonValueKind.Object) throw Bad(path, "model.vocab", "is missing.");

        var tokens = new Dictionary<int, string>();
        foreach (var entry in vocabJson.EnumerateObject()) tokens[entry.Value.GetInt32()] = entry.Name;
        var added = new Dictionary<int, bool>();   // id -> special
        if (root.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
            foreach (var a in addedJson.EnumerateArray())
            {
                int id = a.GetProperty("id").GetInt32();
                tokens[id] = a.GetProperty("content").GetString()!;
                added[id] = a.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
            }
        int count = Math.Max(config.VocabSize, tokens.Count == 0 ? 0 : tokens.Keys.Max() + 1);
        if (count > config.VocabSize)
            throw new ArgumentException($"{path}: token id {tokens.Keys.Max()} is outside the model's vocab_size {config.VocabSize}.");
        var ids = Enumerable.Range(0, count).ToArray();
        var pieces = ids.Select(i => tokens.GetValueOrDefault(i, $"[PAD{i}]")).ToArray();

        var merges = ReadMerges(path, model);
        bool byteLevel = Mentions(root, "pre_tokenizer", "ByteLevel") || Mentions(root, "decoder", "ByteLevel");
        string? unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        bool byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;

        var types = ids.Select(i => !tokens.ContainsKey(i) ? GgufTokenType.Unused
            : added.TryGetValue(i, out bool special) ? (pieces[i] == unk ? GgufTokenType.Unknown : special ? GgufTokenType.Control : GgufTokenType.UserDefined)
            : pieces[i] == unk ? GgufTokenType.Unknown
            : !byteLevel && s_byteToken.IsMatch(pieces[i]) ? GgufTokenType.Byte
            : GgufTokenType.Normal).ToArray();

        var meta = new List<KeyValuePair<string, GgufValue>>();
        void Add(string key, GgufValue value) => meta.Add(new(key, value));
        if (byteLevel)
        {
            Add("tokenizer.ggml.model", GgufValue.String("gpt2"));
            Add("tokenizer.ggml.pre", GgufValue.String(PreTokenizerName(path, root)));
            Add("tokenizer.ggml.tokens", GgufValue.Strings(pieces));
            Add("tokenizer.ggml.token_type", GgufValue.Int32s(types.Select(t => (int)t)));
            Add("tokenizer.ggml.merges", GgufValue.Strings(merges.Select(m => $"{m.Left} {m.Right}")));
        }
        else if (byteFallback || pieces.Any(p => p.StartsWith('▁')))
        {
            Add("tokenizer.ggml.model", GgufValue.String("llama"));
            Add("tokenizer.ggml.pre", GgufValue.String("default"));
            Add("tokenizer.ggml.tokens", GgufValue.Strings(pieces));
            Add("tokenizer.ggml.scores", GgufValue.Floats(Scores(pieces, merges)));
            Add("tokenizer.ggml.token_type", GgufValue.Int32s(types.Select(t => (int)t)));
            Add("tokenizer.ggml.add_space_prefix", GgufValue.Bool(AddsSpacePrefix(root)));
        }
        else
        {
            throw new NotSupportedException($"{path}: neither a byte-level BPE (ByteLevel pre-tokenizer/decoder) nor a SentencePiece-style BPE (byte_fallback or '▁' pieces); no llama.cpp tokenizer matches it.");
        }

        int? Lookup(string field)
        {
            if (tokConfig is not { } c || !c.TryGetProperty(field, out var v)) return null;
            string? content = v.ValueKind == JsonValueKind.String ? v.GetString() : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var cc) ? cc.GetString() : null;
            return content is not null && Array.IndexOf(pieces, content) is int i and >= 0 ? i : null;
        }
        var bos = Lookup("bos_token") ?? config.BosTokenId;
        var eos = Lookup("eos_token") ?? (config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null);
        var unkId = Lookup("unk_token") ?? (unk is null ? null : Array.IndexOf(pieces, unk) is int ui and >= 0 ? ui : null);
        var pad = Lookup("pad_token") ?? config.PadTokenId;
        if (bos is int b) Add("tokenizer.ggml.bos_token_id", GgufValue.UInt32((uint)b));
        if (eos is int e) Add("tokenizer.ggml.eos_token_id", GgufValue.UInt32((uint)e));
        if (unkId is int k) Add("tokenizer.ggml.unknown_token_id", GgufValue.UInt32((uint)k));
        if (pad is int p) Add("tokenizer.ggml.padding_token_id", GgufValue.UInt32((uint)p));
        var (templateBos, templateEos) = TemplateAdds(root, bos is int bb ? pieces[bb] : null, eos is int ee ? pieces[ee] : null);
        Add("tokenizer.ggml.add_bos_token", GgufValue.Bool(Flag(tokConfig, "add_bos_token") ?? templateBos));
        Add("tokenizer.ggml.add_eos_token", GgufValue.Bool(Flag(tokConfig, "add_eos_token") ?? templateEos));
        if (tokConfig is { } tc && tc.TryGetProperty("chat_template", out var template) && template.ValueKind == JsonValueKind.String)
            Add("tokenizer.chat_template", GgufValue.String(template.GetString()!));
        return meta;
    }

    /// <summary>The piece made by merge r scores −r (its first merge counts); other pieces score below every merge.</summary>
    internal static float[] Scores(string[] pieces, List<(string Left, string Right)> merges)
    {
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < merges.Count; r++) rank.TryAdd(merges[r].Left + merges[r].Right, r);
        return [.. pieces.Select(p => rank.TryGetValue(p, out int r) ? -(float)r : -(float)(merges.Count + 1))];
    }

    private static string PreTokenizerName(string path, JsonElement root)
    {
        var pre = root.TryGetProperty("pre_tokenizer", out var p) ? p : default;
        if (pre.ValueKind == JsonValueKind.Object && pre.GetProperty("type").GetString() == "ByteLevel"
            && !(pre.TryGetProperty("use_regex", out var r) && r.ValueKind == JsonValueKind.False))
            return BpePreTokenizerPatterns.Gpt2;
        if (pre.ValueKind == JsonValueKind.Object && pre.GetProperty("type").GetString() == "Sequence"
            && pre.TryGetProperty("pretokenizers", out var steps) && steps.GetArrayLength() == 2
            && steps[0].GetProperty("type").GetString() == "Split" && steps[0].TryGetProperty("pattern", out var pattern)
            && pattern.TryGetProperty("Regex", out var regex) && BpePreTokenizerPatterns.NameOf(regex.GetString()!) is { } name
            && steps[1].GetProperty("type").GetString() == "ByteLevel")
            return name;
        throw new NotSupportedException($"{path}: pre_tokenizer {(pre.ValueKind == JsonValueKind.Undefined ? "(none)" : pre.GetRawText()[..Math.Min(120, pre.GetRawText().Length)])} matches none of llama.cpp's pre-tokenizers this exporter knows ({string.Join(", ", BpePreTokenizerPatterns.Supported)}).");
    }

    private static bool AddsSpacePrefix(JsonElement root)
    {
        if (Mentions(root, "normalizer", "Prepend")) return true;
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object) return false;
        string text = pre.GetRawText();
        return text.Contains("\"Metaspace\"") && !text.Contains("\"never\"") && !text.Contains("\"add_prefix_space\": false") && !text.Contains("\"add_prefix_space\":false");
    }

    /// <summary>Whether the post-processor's single template puts the BOS / EOS token around the sequence.</summary>
    private static (bool Bos, bool Eos) TemplateAdds(JsonElement root, string? bos, string? eos)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind != JsonValueKind.Object) return (false, false);
        string text = post.GetRawText();
        bool Has(string? token) => token is not null && text.Contains("\"TemplateProcessing\"") && text.Contains(JsonSerializer.Serialize(token));
        return (Has(bos), Has(eos));
    }

    private static bool? Flag(JsonElement? config, string field) =>
        config is { } c && c.TryGetProperty(field, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static bool Mentions(JsonElement root, string field, string type) =>
        root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Object && v.GetRawText().Contains($"\"{type}\"");

    private static List<(string Left, string Right)> ReadMerges(string path, JsonElement model)
    {
        var merges = new List<(string, string)>();
        if (!model.TryGetProperty("merges", out var json) || json.ValueKind != JsonValueKind.Array) return merges;
        int i = 0;
        foreach (var m in json.EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String && m.GetString()!.Split(' ') is [var l, var r]) merges.Add((l, r));
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2) merges.Add((m[0].GetString()!, m[1].GetString()!));
            else throw Bad(path, $"model.merges[{i}]", "is not \"a b\" or [a, b].");
            i++;
        }
        return merges;
    }

    private static JsonDocument Parse(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e); }
    }

    private static InvalidDataException Bad(string path, string at, string problem) => new($"{path}: '{at}' {problem}");
}
