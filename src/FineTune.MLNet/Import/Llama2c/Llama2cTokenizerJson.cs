using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.MLNet.Import.Gguf;

namespace FineTune.MLNet.Import.Llama2c;

/// <summary>
/// <c>tokenizer.json</c> and <c>tokenizer_config.json</c> of a SentencePiece BPE vocabulary in the layout of HF's
/// <c>LlamaTokenizerFast</c> (legacy): normalizer Prepend "▁" + Replace " " → "▁", no pre-tokenizer, BPE with byte
/// fallback whose merges come from the scores (<see cref="SentencePieceMerges"/>), decoder Replace "▁" → " ",
/// ByteFallback, Fuse, Strip one leading space; BOS added in front. This encodes as <c>run.c</c>'s <c>encode</c>
/// (dummy-prefix space, one piece per character or its bytes, then the best-scoring adjacent merge first) and decodes
/// as its <c>decode</c> (leading space of the first piece dropped, <c>&lt;0xNN&gt;</c> as raw bytes).
/// </summary>
public static class Llama2cTokenizerJson
{
    /// <summary>The two texts; <paramref name="modelMaxLength"/> is the checkpoint's seq_len.</summary>
    public static (string TokenizerJson, string TokenizerConfigJson) Build(SentencePieceVocabulary v, int modelMaxLength)
    {
        ArgumentNullException.ThrowIfNull(v);
        bool Mergeable(int id) => v.Kinds[id] is SentencePieceKind.Normal or SentencePieceKind.UserDefined;
        var merges = SentencePieceMerges.From(v.Pieces, v.Scores, Mergeable);
        var normalizers = new JsonArray();
        if (v.AddDummyPrefix) normalizers.Add(new JsonObject { ["type"] = "Prepend", ["prepend"] = SentencePieceVocabulary.Space });
        normalizers.Add(new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = SentencePieceVocabulary.Space });
        var decoders = new JsonArray
        {
            new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = SentencePieceVocabulary.Space }, ["content"] = " " },
            new JsonObject { ["type"] = "ByteFallback" },
            new JsonObject { ["type"] = "Fuse" },
        };
        if (v.AddDummyPrefix) decoders.Add(new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 });

        var vocab = new JsonObject();
        for (int id = 0; id < v.Count; id++) vocab[v.Pieces[id]] = id;
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray([.. SpecialIds(v).Select(id => (JsonNode)AddedToken(v, id, withId: true))]),
            ["normalizer"] = new JsonObject { ["type"] = "Sequence", ["normalizers"] = normalizers },
            ["pre_tokenizer"] = null,
            ["post_processor"] = PostProcessor(v),
            ["decoder"] = new JsonObject { ["type"] = "Sequence", ["decoders"] = decoders },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = v.Pieces[v.UnkId],
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = true,
                ["byte_fallback"] = true,
                ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray([.. merges.Select(m => (JsonNode)new JsonArray(m.Left, m.Right))]),
            },
        };
        var decoderTokens = new JsonObject();
        foreach (var id in SpecialIds(v)) decoderTokens[id.ToString(CultureInfo.InvariantCulture)] = AddedToken(v, id, withId: false);
        var config = new JsonObject
        {
            ["add_bos_token"] = true,
            ["add_eos_token"] = false,
            ["bos_token"] = v.Pieces[v.BosId],
            ["eos_token"] = v.Pieces[v.EosId],
            ["unk_token"] = v.Pieces[v.UnkId],
            ["pad_token"] = null,
            ["clean_up_tokenization_spaces"] = false,
            ["legacy"] = true,
            ["model_max_length"] = modelMaxLength,
            ["tokenizer_class"] = "LlamaTokenizerFast",
            ["added_tokens_decoder"] = decoderTokens,
        };
        return (Serialize(tokenizer), Serialize(config));
    }

    private static IEnumerable<int> SpecialIds(SentencePieceVocabulary v) =>
        Enumerable.Range(0, v.Count).Where(id => v.Kinds[id] is SentencePieceKind.Control or SentencePieceKind.Unknown);

    private static JsonObject AddedToken(SentencePieceVocabulary v, int id, bool withId)
    {
        var token = new JsonObject();
        if (withId) token["id"] = id;
        token["content"] = v.Pieces[id];
        token["single_word"] = false;
        token["lstrip"] = false;
        token["rstrip"] = false;
        token["normalized"] = false;
        token["special"] = true;
        return token;
    }

    private static JsonObject PostProcessor(SentencePieceVocabulary v)
    {
        string bos = v.Pieces[v.BosId];
        JsonArray Template(params string[] sequences)
        {
            var items = new JsonArray();
            for (int i = 0; i < sequences.Length; i++)
            {
                items.Add(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = bos, ["type_id"] = i } });
                items.Add(new JsonObject { ["Sequence"] = new JsonObject { ["id"] = sequences[i], ["type_id"] = i } });
            }
            return items;
        }
        return new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = Template("A"),
            ["pair"] = Template("A", "B"),
            ["special_tokens"] = new JsonObject { [bos] = new JsonObject { ["id"] = bos, ["ids"] = new JsonArray(v.BosId), ["tokens"] = new JsonArray(bos) } },
        };
    }

    private static string Serialize(JsonObject json) => json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
