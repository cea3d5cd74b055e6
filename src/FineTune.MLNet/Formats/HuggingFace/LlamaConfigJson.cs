using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.MLNet.Formats.HuggingFace;

/// <summary>
/// Reads and writes <c>config.json</c> of llama / mistral / qwen2 checkpoints (transformers <c>LlamaConfig</c>,
/// <c>MistralConfig</c>, <c>Qwen2Config</c>). Accepts the v4 layout (<c>rope_theta</c>, <c>rope_scaling</c> with
/// <c>rope_type</c> or <c>type</c>, <c>torch_dtype</c>) and the v5 one (<c>rope_parameters</c>, <c>dtype</c>).
/// </summary>
internal static class LlamaConfigJson
{
    private static readonly string[] Required = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"];

    public static LlamaConfig Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Config file '{path}' does not exist.", path);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Config file '{path}' is not valid JSON: {e.Message}", e);
        }
        if (root is not JsonObject obj) throw new InvalidDataException($"Config file '{path}' must hold a JSON object.");
        var f = new Fields(obj, path);
        var modelType = f.String("model_type")
            ?? throw new InvalidDataException($"Config file '{path}': field 'model_type' is missing (expected one of {string.Join(", ", LlamaConfig.SupportedModelTypes)}).");
        if (!LlamaConfig.SupportedModelTypes.Contains(modelType))
        {
            throw new NotSupportedException(
                $"Config file '{path}': model_type '{modelType}' is not supported; supported: {string.Join(", ", LlamaConfig.SupportedModelTypes)}.");
        }
        foreach (var key in Required)
        {
            if (f.Int(key) is null) throw new InvalidDataException($"Config file '{path}': required field '{key}' is missing (expected an integer).");
        }
        if (modelType == "qwen2" && f.Bool("use_sliding_window") == true)
        {
            throw new NotSupportedException($"Config file '{path}': field 'use_sliding_window' is true; Qwen2 sliding-window attention is not implemented.");
        }
        var ropeParameters = f.Object("rope_parameters");
        var scaling = ReadScaling(f.Object("rope_scaling") ?? ropeParameters, path, ropeParameters is not null && f.Object("rope_scaling") is null ? "rope_parameters" : "rope_scaling");
        var ropeTheta = f.Double("rope_theta") ?? (ropeParameters is null ? null : new Fields(ropeParameters, path, "rope_parameters.").Double("rope_theta"));
        int heads = f.Int("num_attention_heads")!.Value;
        var config = new LlamaConfig
        {
            ModelType = modelType,
            VocabSize = f.Int("vocab_size")!.Value,
            HiddenSize = f.Int("hidden_size")!.Value,
            IntermediateSize = f.Int("intermediate_size")!.Value,
            NumHiddenLayers = f.Int("num_hidden_layers")!.Value,
            NumAttentionHeads = heads,
            NumKeyValueHeads = f.Int("num_key_value_heads") ?? (modelType == "mistral" ? 8 : heads),
            HeadDim = f.Int("head_dim"),
            RmsNormEps = f.Double("rms_norm_eps") ?? 1e-6,
            RopeTheta = ropeTheta ?? 10000,
            RopeScaling = scaling,
            MaxPositionEmbeddings = f.Int("max_position_embeddings") ?? modelType switch { "qwen2" => 32768, "mistral" => 4096 * 32, _ => 2048 },
            TieWordEmbeddings = f.Bool("tie_word_embeddings") ?? false,
            BosTokenId = f.Has("bos_token_id") ? f.Int("bos_token_id") : (modelType == "qwen2" ? null : 1),
            EosTokenIds = f.Has("eos_token_id") ? f.IntOrList("eos_token_id") : (modelType == "qwen2" ? [] : [2]),
            PadTokenId = f.Int("pad_token_id"),
            AttentionBias = f.Bool("attention_bias") ?? false,
            MlpBias = f.Bool("mlp_bias") ?? false,
            HiddenAct = f.String("hidden_act") ?? "silu",
            TorchDtype = f.String("torch_dtype") ?? f.String("dtype"),
            SlidingWindow = modelType == "mistral" ? (f.Has("sliding_window") ? f.Int("sliding_window") : 4096) : null,
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Config file '{path}': field '{e.ParamName}' is invalid: {e.Message}", e);
        }
        return config;
    }

    private static RopeScaling? ReadScaling(JsonObject? node, string path, string key)
    {
        if (node is null) return null;
        var f = new Fields(node, path, key + ".");
        var type = f.String("rope_type") ?? f.String("type") ?? "default";
        if (!RopeScaling.SupportedTypes.Contains(type))
        {
            throw new NotSupportedException(
                $"Config file '{path}': field '{key}.rope_type' is '{type}', which is not supported; supported: {string.Join(", ", RopeScaling.SupportedTypes)}.");
        }
        if (type == "default") return null;
        var scaling = new RopeScaling
        {
            RopeType = type,
            Factor = f.Double("factor") ?? throw new InvalidDataException($"Config file '{path}': field '{key}.factor' is missing (required for rope_type {type})."),
            LowFreqFactor = f.Double("low_freq_factor") ?? 1,
            HighFreqFactor = f.Double("high_freq_factor") ?? 4,
            OriginalMaxPositionEmbeddings = f.Int("original_max_position_embeddings") ?? 8192,
        };
        if (type == "llama3")
        {
            foreach (var k in new[] { "low_freq_factor", "high_freq_factor", "original_max_position_embeddings" })
            {
                if (!f.Has(k)) throw new InvalidDataException($"Config file '{path}': field '{key}.{k}' is missing (required for rope_type llama3).");
            }
        }
        return scaling;
    }

    public static string Write(LlamaConfig c)
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(c.Architecture),
            ["model_type"] = c.ModelType,
            ["vocab_size"] = c.VocabSize,
            ["hidden_size"] = c.HiddenSize,
            ["intermediate_size"] = c.IntermediateSize,
            ["num_hidden_layers"] = c.NumHiddenLayers,
            ["num_attention_heads"] = c.NumAttentionHeads,
            ["num_key_value_heads"] = c.KeyValueHeads,
            ["head_dim"] = c.EffectiveHeadDim,
            ["hidden_act"] = c.HiddenAct,
            ["rms_norm_eps"] = c.RmsNormEps,
            ["rope_theta"] = c.RopeTheta,
            ["rope_scaling"] = c.RopeScaling is null ? null : new JsonObject
            {
                ["rope_type"] = c.RopeScaling.RopeType,
                ["factor"] = c.RopeScaling.Factor,
                ["low_freq_factor"] = c.RopeScaling.LowFreqFactor,
                ["high_freq_factor"] = c.RopeScaling.HighFreqFactor,
                ["original_max_position_embeddings"] = c.RopeScaling.OriginalMaxPositionEmbeddings,
            },
            ["max_position_embeddings"] = c.MaxPositionEmbeddings,
            ["tie_word_embeddings"] = c.TieWordEmbeddings,
            ["bos_token_id"] = c.BosTokenId,
            ["eos_token_id"] = c.EosTokenIds.Count == 1 ? JsonValue.Create(c.EosTokenIds[0]) : new JsonArray([.. c.EosTokenIds.Select(i => (JsonNode?)i)]),
            ["pad_token_id"] = c.PadTokenId,
            ["attention_bias"] = c.AttentionBias,
            ["mlp_bias"] = c.MlpBias,
            ["torch_dtype"] = c.TorchDtype ?? "float32",
        };
        if (c.ModelType == "mistral") o["sliding_window"] = c.SlidingWindow;
        if (c.ModelType == "qwen2") o["use_sliding_window"] = false;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Typed access to a JSON object's fields; errors name the file and the (prefixed) key.</summary>
    private sealed class Fields(JsonObject root, string path, string prefix = "")
    {
        public bool Has(string key) => root.ContainsKey(key);

        public JsonObject? Object(string key) => Get(key) switch
        {
            null => null,
            JsonObject o => o,
            var v => throw Mistyped(key, "an object", v),
        };

        public int? Int(string key)
        {
            var v = Get(key);
            if (v is null) return null;
            if (v is JsonValue jv && jv.TryGetValue<double>(out var d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
            throw Mistyped(key, "an integer", v);
        }

        public double? Double(string key)
        {
            var v = Get(key);
            if (v is null) return null;
            if (v is JsonValue jv && jv.TryGetValue<double>(out var d)) return d;
            throw Mistyped(key, "a number", v);
        }

        public bool? Bool(string key)
        {
            var v = Get(key);
            if (v is null) return null;
            if (v is JsonValue jv && jv.TryGetValue<bool>(out var b)) return b;
            throw Mistyped(key, "true or false", v);
        }

        public string? String(string key)
        {
            var v = Get(key);
            if (v is null) return null;
            if (v is JsonValue jv && jv.TryGetValue<string>(out var s)) return s;
            throw Mistyped(key, "a string", v);
        }

        /// <summary>An integer, a list of integers, or null (empty list).</summary>
        public IReadOnlyList<int> IntOrList(string key)
        {
            var v = Get(key);
            if (v is null) return [];
            if (v is JsonArray a)
            {
                var ids = new List<int>();
                foreach (var item in a)
                {
                    if (item is JsonValue iv && iv.TryGetValue<double>(out var d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) ids.Add((int)d);
                    else throw Mistyped(key, "an integer or a list of integers", v);
                }
                return ids;
            }
            return [Int(key)!.Value];
        }

        private JsonNode? Get(string key) => root.TryGetPropertyValue(key, out var v) ? v : null;

        private InvalidDataException Mistyped(string key, string expected, JsonNode actual)
        {
            var text = actual.ToJsonString();
            return new($"Config file '{path}': field '{prefix}{key}' must be {expected}, got {(text.Length <= 40 ? text : text[..40] + "...")}.");
        }
    }
}
