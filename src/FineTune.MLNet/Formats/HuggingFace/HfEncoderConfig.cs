using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.MLNet.Formats.Json;

namespace FineTune.MLNet.Formats.HuggingFace;

/// <summary>
/// Reads and writes Hugging Face <c>config.json</c> files of encoder models as <see cref="BertConfig"/>:
/// <c>model_type</c> <c>bert</c> (BERT, MiniLM, ...) and <c>distilbert</c>, whose keys are mapped
/// (dim -> hidden_size, n_layers -> num_hidden_layers, n_heads -> num_attention_heads, hidden_dim -> intermediate_size,
/// activation -> hidden_act, dropout / attention_dropout / seq_classif_dropout; no token types, LayerNorm eps 1e-12).
/// Missing optional keys take transformers' defaults (configuration_bert.py, configuration_distilbert.py).
/// </summary>
public static class HfEncoderConfig
{
    /// <summary>BertConfig properties whose keys a config file must have.</summary>
    private static readonly string[] RequiredProperties =
    [
        nameof(BertConfig.VocabSize), nameof(BertConfig.HiddenSize), nameof(BertConfig.NumHiddenLayers),
        nameof(BertConfig.NumAttentionHeads), nameof(BertConfig.IntermediateSize),
    ];

    /// <summary>BertConfig property -> DistilBERT config key, for error messages and writing.</summary>
    private static readonly Dictionary<string, string> DistilBertKeys = new()
    {
        [nameof(BertConfig.HiddenSize)] = "dim",
        [nameof(BertConfig.NumHiddenLayers)] = "n_layers",
        [nameof(BertConfig.NumAttentionHeads)] = "n_heads",
        [nameof(BertConfig.IntermediateSize)] = "hidden_dim",
        [nameof(BertConfig.HiddenAct)] = "activation",
        [nameof(BertConfig.HiddenDropoutProb)] = "dropout",
        [nameof(BertConfig.AttentionProbsDropoutProb)] = "attention_dropout",
        [nameof(BertConfig.ClassifierDropout)] = "seq_classif_dropout",
    };

    /// <summary>Reads and validates <paramref name="path"/>; errors name the file and the field.</summary>
    public static BertConfig Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Config file '{path}' does not exist.", path);
        }
        using (var doc = JsonInput.ParseFile(path, "Config file", (problem, inner) => new InvalidDataException($"Config file '{path}' {problem}.", inner), JsonInput.MaxConfigFileBytes))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"Config file '{path}' must hold a JSON object.");
            }
            var fields = new JsonFields($"Config file '{path}'");
            var root = doc.RootElement;
            var modelType = fields.String(root, "model_type")
                ?? throw new InvalidDataException($"Config file '{path}': field 'model_type' is missing (expected bert or distilbert).");
            var config = modelType is "bert" or "distilbert"
                ? FromJson(fields, root, modelType, path)
                : throw new NotSupportedException(
                    $"Config file '{path}': model_type '{modelType}' is not supported; supported: {string.Join(", ", BertConfig.SupportedModelTypes)} (MiniLM checkpoints are model_type bert).");
            try
            {
                config.Validate();
            }
            catch (ArgumentException e)
            {
                var key = JsonKey(modelType, e.ParamName ?? "");
                throw new InvalidDataException($"Config file '{path}': field '{key}' is invalid: {e.Message}", e);
            }
            return config;
        }
    }

    /// <summary>The Hugging Face <c>config.json</c> text for <paramref name="config"/> (keys sorted, indented).</summary>
    public static string ToJson(BertConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var json = config.ModelType == "distilbert" ? DistilBertNode(config) : BertNode(config);
        var labels = config.LabelNames();
        var id2label = new JsonObject();
        var label2id = new JsonObject();
        for (int i = 0; i < labels.Count; i++)
        {
            id2label[i.ToString(CultureInfo.InvariantCulture)] = labels[i];
            label2id[labels[i]] = i;
        }
        json["id2label"] = id2label;
        json["label2id"] = label2id;
        json["model_type"] = config.ModelType;
        json["pad_token_id"] = config.PadTokenId;
        json["vocab_size"] = config.VocabSize;
        json["max_position_embeddings"] = config.MaxPositionEmbeddings;
        json["initializer_range"] = 0.02;
        var sorted = new JsonObject();
        foreach (var (key, value) in json.OrderBy(p => p.Key, StringComparer.Ordinal).ToList())
        {
            json.Remove(key);
            sorted[key] = value;
        }
        return sorted.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject BertNode(BertConfig config)
    {
        // The [JsonPropertyName] attributes give the HF key names; labels are rewritten as id2label/label2id.
        var json = JsonSerializer.SerializeToNode(config)!.AsObject();
        json.Remove("num_labels");
        json["architectures"] = new JsonArray("BertForSequenceClassification");
        json["position_embedding_type"] = "absolute";
        return json;
    }

    private static JsonObject DistilBertNode(BertConfig config) => new()
    {
        ["architectures"] = new JsonArray("DistilBertForSequenceClassification"),
        ["dim"] = config.HiddenSize,
        ["n_layers"] = config.NumHiddenLayers,
        ["n_heads"] = config.NumAttentionHeads,
        ["hidden_dim"] = config.IntermediateSize,
        ["activation"] = config.HiddenAct,
        ["dropout"] = config.HiddenDropoutProb,
        ["attention_dropout"] = config.AttentionProbsDropoutProb,
        ["seq_classif_dropout"] = config.ClassifierDropout ?? 0.2,
        ["sinusoidal_pos_embds"] = false,
        ["tie_weights_"] = true,
    };

    /// <summary>One reader for both model types: each field under its key for <paramref name="modelType"/> (<see cref="JsonKey"/>).</summary>
    private static BertConfig FromJson(JsonFields f, JsonElement root, string modelType, string path)
    {
        var distil = modelType == "distilbert";
        string Key(string property) => JsonKey(modelType, property);
        foreach (var property in RequiredProperties)
        {
            f.RequiredInt(root, Key(property));
        }
        var positionType = distil ? "absolute" : f.String(root, "position_embedding_type") ?? "absolute";   // DistilBERT: learned positions only
        if (positionType != "absolute")
        {
            throw new NotSupportedException($"Config file '{path}': field 'position_embedding_type' is '{positionType}'; only 'absolute' is supported.");
        }
        var (numLabels, id2label) = Labels(f, root);
        return new BertConfig
        {
            ModelType = modelType,
            VocabSize = f.Int(root, Key(nameof(BertConfig.VocabSize))) ?? 0,
            HiddenSize = f.Int(root, Key(nameof(BertConfig.HiddenSize))) ?? 0,
            NumHiddenLayers = f.Int(root, Key(nameof(BertConfig.NumHiddenLayers))) ?? 0,
            NumAttentionHeads = f.Int(root, Key(nameof(BertConfig.NumAttentionHeads))) ?? 0,
            IntermediateSize = f.Int(root, Key(nameof(BertConfig.IntermediateSize))) ?? 0,
            HiddenAct = f.String(root, Key(nameof(BertConfig.HiddenAct))) ?? "gelu",
            MaxPositionEmbeddings = f.Int(root, Key(nameof(BertConfig.MaxPositionEmbeddings))) ?? 512,
            TypeVocabSize = distil ? 0 : f.Int(root, "type_vocab_size") ?? 2,
            LayerNormEps = distil ? 1e-12 : f.Double(root, "layer_norm_eps") ?? 1e-12,   // fixed in modeling_distilbert.py
            PadTokenId = f.Int(root, Key(nameof(BertConfig.PadTokenId))) ?? 0,
            NumLabels = numLabels,
            Id2Label = id2label,
            HiddenDropoutProb = f.Double(root, Key(nameof(BertConfig.HiddenDropoutProb))) ?? 0.1,
            AttentionProbsDropoutProb = f.Double(root, Key(nameof(BertConfig.AttentionProbsDropoutProb))) ?? 0.1,
            ClassifierDropout = f.Double(root, Key(nameof(BertConfig.ClassifierDropout))) ?? (distil ? 0.2 : null),
        };
    }

    private static string JsonKey(string modelType, string property)
    {
        if (modelType == "distilbert" && DistilBertKeys.TryGetValue(property, out var key))
        {
            return key;
        }
        var info = typeof(BertConfig).GetProperty(property);
        var attribute = info?.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonPropertyNameAttribute), false)
            .OfType<System.Text.Json.Serialization.JsonPropertyNameAttribute>().FirstOrDefault();
        return attribute?.Name ?? property;
    }

    /// <summary>Class count and names from <c>id2label</c> (keys "0".."n-1"), else <c>num_labels</c>, else 2.</summary>
    private static (int Count, IReadOnlyList<string>? Names) Labels(JsonFields f, JsonElement root)
    {
        int? numLabels = JsonFields.Has(root, "num_labels") ? f.Int(root, "num_labels") ?? 2 : null;
        if (!root.TryGetProperty("id2label", out var map) || map.ValueKind == JsonValueKind.Null)
        {
            return (numLabels ?? 2, null);
        }
        if (map.ValueKind != JsonValueKind.Object)
        {
            throw f.Mistyped("id2label", "an object {\"0\": name, ...}", map);
        }
        var names = new Dictionary<int, string>();
        foreach (var entry in map.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                || entry.Value.ValueKind != JsonValueKind.String || !names.TryAdd(id, entry.Value.GetString()!))
            {
                throw f.Error("id2label", $"entry '{entry.Name}' must map a distinct non-negative integer id to a string.");
            }
        }
        if (names.Count == 0 || names.Keys.Max() != names.Count - 1)
        {
            throw f.Error("id2label", $"must have ids 0..n-1, got {string.Join(", ", names.Keys.Order())}.");
        }
        if (numLabels is not null && numLabels != names.Count)
        {
            throw f.Error("num_labels", $"is {numLabels} but 'id2label' has {names.Count} entries.");
        }
        return (names.Count, [.. Enumerable.Range(0, names.Count).Select(i => names[i])]);
    }
}
