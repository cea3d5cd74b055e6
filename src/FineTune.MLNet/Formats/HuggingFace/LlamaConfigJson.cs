using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.MLNet.Formats.Json;

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
        using var doc = JsonInput.ParseFile(path, "Config file", (problem, inner) => new InvalidDataException($"Config file '{path}' {problem}.", inner), JsonInput.MaxConfigFileBytes);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"Config file '{path}' must hold a JSON object.");
        var f = new JsonFields($"Config file '{path}'");
        var modelType = f.String(root, "model_type")
            ?? throw new InvalidDataException($"Config file '{path}': field 'model_type' is missing (expected one of {string.Join(", ", LlamaConfig.SupportedModelTypes)}).");
        if (!LlamaConfig.SupportedModelTypes.Contains(modelType))
        {
            throw new NotSupportedException(
                $"Config file '{path}': model_type '{modelType}' is not supported; supported: {string.Join(", ", LlamaConfig.SupportedModelTypes)}.");
        }
        foreach (var key in Required)
        {
            f.RequiredInt(root, key);
        }
        if (modelType == "qwen2" && f.Bool(root, "use_sliding_window") == true)
        {
            throw new NotSupportedException($"Config file '{path}': field 'use_sliding_window' is true; Qwen2 sliding-window attention is not implemented.");
        }
        var ropeParameters = f.Object(root, "rope_parameters");
        var scaling = ReadScaling(f, f.Object(root, "rope_scaling") ?? ropeParameters, path, ropeParameters is not null && f.Object(root, "rope_scaling") is null ? "rope_parameters" : "rope_scaling");
        var ropeTheta = f.Double(root, "rope_theta") ?? (ropeParameters is null ? null : f.Double(ropeParameters.Value, "rope_theta", "rope_parameters.rope_theta"));
        int heads = f.Int(root, "num_attention_heads")!.Value;
        var config = new LlamaConfig
        {
            ModelType = modelType,
            VocabSize = f.Int(root, "vocab_size")!.Value,
            HiddenSize = f.Int(root, "hidden_size")!.Value,
            IntermediateSize = f.Int(root, "intermediate_size")!.Value,
            NumHiddenLayers = f.Int(root, "num_hidden_layers")!.Value,
            NumAttentionHeads = heads,
            NumKeyValueHeads = f.Int(root, "num_key_value_heads") ?? (modelType == "mistral" ? 8 : heads),
            HeadDim = f.Int(root, "head_dim"),
            RmsNormEps = f.Double(root, "rms_norm_eps") ?? 1e-6,
            RopeTheta = ropeTheta ?? 10000,
            RopeScaling = scaling,
            MaxPositionEmbeddings = f.Int(root, "max_position_embeddings") ?? modelType switch { "qwen2" => 32768, "mistral" => 4096 * 32, _ => 2048 },
            TieWordEmbeddings = f.Bool(root, "tie_word_embeddings") ?? false,
            BosTokenId = JsonFields.Has(root, "bos_token_id") ? f.Int(root, "bos_token_id") : (modelType == "qwen2" ? null : 1),
            EosTokenIds = JsonFields.Has(root, "eos_token_id") ? f.IntOrList(root, "eos_token_id") : (modelType == "qwen2" ? [] : [2]),
            PadTokenId = f.Int(root, "pad_token_id"),
            AttentionBias = f.Bool(root, "attention_bias") ?? false,
            MlpBias = f.Bool(root, "mlp_bias") ?? false,
            HiddenAct = f.String(root, "hidden_act") ?? "silu",
            TorchDtype = f.String(root, "torch_dtype") ?? f.String(root, "dtype"),
            SlidingWindow = modelType == "mistral" ? (JsonFields.Has(root, "sliding_window") ? f.Int(root, "sliding_window") : 4096) : null,
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

    private static RopeScaling? ReadScaling(JsonFields f, JsonElement? scalingNode, string path, string key)
    {
        if (scalingNode is not { } node) return null;
        var type = f.String(node, "rope_type", $"{key}.rope_type") ?? f.String(node, "type", $"{key}.type") ?? "default";
        if (!RopeScaling.SupportedTypes.Contains(type))
        {
            throw new NotSupportedException(
                $"Config file '{path}': field '{key}.rope_type' is '{type}', which is not supported; supported: {string.Join(", ", RopeScaling.SupportedTypes)}.");
        }
        if (type == "default") return null;
        var scaling = new RopeScaling
        {
            RopeType = type,
            Factor = f.Double(node, "factor", $"{key}.factor") ?? throw new InvalidDataException($"Config file '{path}': field '{key}.factor' is missing (required for rope_type {type})."),
            LowFreqFactor = f.Double(node, "low_freq_factor", $"{key}.low_freq_factor") ?? 1,
            HighFreqFactor = f.Double(node, "high_freq_factor", $"{key}.high_freq_factor") ?? 4,
            OriginalMaxPositionEmbeddings = f.Int(node, "original_max_position_embeddings", $"{key}.original_max_position_embeddings") ?? 8192,
        };
        if (type == "llama3")
        {
            foreach (var k in new[] { "low_freq_factor", "high_freq_factor", "original_max_position_embeddings" })
            {
                if (!JsonFields.Has(node, k)) throw new InvalidDataException($"Config file '{path}': field '{key}.{k}' is missing (required for rope_type llama3).");
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
}
