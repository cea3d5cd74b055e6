using System.Text.Json;
using FineTune.MLNet.Formats.Json;

namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>
/// What <c>tokenizer_config.json</c> (plus <c>special_tokens_map.json</c>, <c>chat_template.jinja</c> and
/// <c>chat_template.json</c> when present) says about special tokens and chat formatting. Special tokens may be
/// strings or <c>AddedToken</c> objects (<c>{"__type": "AddedToken", "content": ...}</c>); values missing from
/// <c>tokenizer_config.json</c> are taken from <c>special_tokens_map.json</c>.
/// </summary>
internal sealed record HfTokenizerConfig
{
    public const string FileName = "tokenizer_config.json";
    public const string SpecialTokensMapFileName = "special_tokens_map.json";

    public string? BosToken { get; init; }
    public string? EosToken { get; init; }
    public string? PadToken { get; init; }
    public string? UnkToken { get; init; }

    /// <summary><c>add_bos_token</c>; null when the file does not say (the post-processor decides).</summary>
    public bool? AddBosToken { get; init; }

    /// <summary><c>add_eos_token</c>; null when the file does not say.</summary>
    public bool? AddEosToken { get; init; }

    /// <summary>The Jinja chat template: the string, or the one named "default" (else the first) of a list.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary><c>model_max_length</c>; null when absent or the "no limit" sentinel (&gt; int.MaxValue).</summary>
    public int? ModelMaxLength { get; init; }

    /// <summary><c>added_tokens_decoder</c> entries (used when there is no <c>tokenizer.json</c>).</summary>
    public IReadOnlyList<HfAddedToken> AddedTokens { get; init; } = [];

    /// <summary>Reads the config files of <paramref name="dir"/>; all are optional.</summary>
    public static HfTokenizerConfig Load(string dir)
    {
        var config = new HfTokenizerConfig();
        string path = Path.Combine(dir, FileName);
        if (File.Exists(path))
        {
            using var doc = HfTokenizerJson.ParseFile(path);
            var r = new JsonFields(FileName);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw r.Error("$", "expected a JSON object.");
            config = new HfTokenizerConfig
            {
                BosToken = TokenContent(r, root, "bos_token"),
                EosToken = TokenContent(r, root, "eos_token"),
                PadToken = TokenContent(r, root, "pad_token"),
                UnkToken = TokenContent(r, root, "unk_token"),
                AddBosToken = JsonFields.Get(root, "add_bos_token") is null ? null : r.Bool(root, "add_bos_token", false),
                AddEosToken = JsonFields.Get(root, "add_eos_token") is null ? null : r.Bool(root, "add_eos_token", false),
                ChatTemplate = ReadChatTemplate(r, JsonFields.Get(root, "chat_template")),
                ModelMaxLength = ReadMaxLength(r, JsonFields.Get(root, "model_max_length")),
                AddedTokens = ReadAddedTokensDecoder(r, JsonFields.Get(root, "added_tokens_decoder")),
            };
        }
        config = MergeSpecialTokensMap(config, Path.Combine(dir, SpecialTokensMapFileName));
        return config with { ChatTemplate = config.ChatTemplate ?? ReadChatTemplateFiles(dir) };
    }

    private static HfTokenizerConfig MergeSpecialTokensMap(HfTokenizerConfig config, string path)
    {
        if (!File.Exists(path)) return config;
        using var doc = HfTokenizerJson.ParseFile(path);
        var r = new JsonFields(SpecialTokensMapFileName);
        var root = doc.RootElement;
        return config with
        {
            BosToken = config.BosToken ?? TokenContent(r, root, "bos_token"),
            EosToken = config.EosToken ?? TokenContent(r, root, "eos_token"),
            PadToken = config.PadToken ?? TokenContent(r, root, "pad_token"),
            UnkToken = config.UnkToken ?? TokenContent(r, root, "unk_token"),
        };
    }

    /// <summary>A special token given as a string, an AddedToken object, or null.</summary>
    private static string? TokenContent(JsonFields r, JsonElement root, string field) =>
        JsonFields.Get(root, field) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } s => s.GetString(),
            { ValueKind: JsonValueKind.Object } o => r.String(o, "content", field + ".content") ?? throw r.Error(field + ".content", "is missing."),
            _ => throw r.Error(field, "expected a string, an AddedToken object or null."),
        };

    private static string? ReadChatTemplate(JsonFields r, JsonElement? json)
    {
        switch (json)
        {
            case null: return null;
            case { ValueKind: JsonValueKind.String } s: return s.GetString();
            case { ValueKind: JsonValueKind.Array } list:
                var named = list.EnumerateArray().Select((e, i) => (
                    Name: e.ValueKind == JsonValueKind.Object ? r.String(e, "name", $"chat_template[{i}].name") : null,
                    Template: e.ValueKind == JsonValueKind.Object ? r.String(e, "template", $"chat_template[{i}].template") : null)).ToList();
                if (named.Any(n => n.Template is null)) throw r.Error("chat_template", "expected a list of {\"name\", \"template\"} objects.");
                return (named.FirstOrDefault(n => n.Name == "default").Template ?? named.FirstOrDefault().Template);
            default: throw r.Error("chat_template", "expected a string or a list of named templates.");
        }
    }

    private static string? ReadChatTemplateFiles(string dir)
    {
        string jinja = Path.Combine(dir, "chat_template.jinja");
        if (File.Exists(jinja)) return File.ReadAllText(jinja);
        string json = Path.Combine(dir, "chat_template.json");
        if (!File.Exists(json)) return null;
        using var doc = HfTokenizerJson.ParseFile(json);
        return ReadChatTemplate(new JsonFields("chat_template.json"), JsonFields.Get(doc.RootElement, "chat_template"));
    }

    private static int? ReadMaxLength(JsonFields r, JsonElement? json)
    {
        if (json is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number) throw r.Error("model_max_length", "expected a number.");
        double value = v.GetDouble();
        return value is > 0 and <= int.MaxValue ? (int)value : null; // HF writes 1e30 for "unlimited"
    }

    private static IReadOnlyList<HfAddedToken> ReadAddedTokensDecoder(JsonFields r, JsonElement? json)
    {
        if (json is not { ValueKind: JsonValueKind.Object } map) return [];
        var list = new List<HfAddedToken>();
        foreach (var entry in map.EnumerateObject())
        {
            string at = $"added_tokens_decoder[\"{entry.Name}\"]";
            if (!int.TryParse(entry.Name, out int id)) throw r.Error(at, "the key must be an integer id.");
            var t = entry.Value;
            string content = r.String(t, "content", at + ".content") ?? throw r.Error(at + ".content", "is missing.");
            list.Add(new HfAddedToken(id, content, r.Bool(t, "special", false), r.Bool(t, "lstrip", false), r.Bool(t, "rstrip", false), r.Bool(t, "single_word", false)));
        }
        return list;
    }
}
