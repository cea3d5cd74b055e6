using System.Text.Json;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Json;
using static FineTune.MLNet.Cli.Inspection.JsonValues;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>A Hugging Face model folder: <c>config.json</c>'s architecture fields and the safetensors headers (parameters, dtypes).</summary>
internal static class HfModelInspector
{
    public const string ConfigFile = "config.json";

    /// <summary>Files a model folder may carry for its tokenizer, reported when present.</summary>
    private static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer.model", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"];

    public static InspectionReport Inspect(string dir)
    {
        var configPath = Path.Combine(dir, ConfigFile);
        using var doc = JsonInput.ParseFile(configPath, "Config file",
            (problem, inner) => new InvalidDataException($"Config file '{configPath}' {problem}.", inner), JsonInput.MaxConfigFileBytes);
        var config = doc.RootElement;
        if (config.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"Config file '{configPath}': expected a JSON object.");
        var report = new InspectionReport("model folder", dir)
            .Add("model_type", Text(config, "model_type"))
            .Add("architectures", Field(config, "architectures") is { ValueKind: JsonValueKind.Array } a
                ? a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList() : null)
            .Add("layers", Int(config, "num_hidden_layers") ?? Int(config, "n_layers"))
            .Add("hidden_size", Int(config, "hidden_size") ?? Int(config, "dim"))
            .Add("intermediate_size", Int(config, "intermediate_size") ?? Int(config, "hidden_dim"))
            .Add("attention_heads", Int(config, "num_attention_heads") ?? Int(config, "n_heads"))
            .Add("kv_heads", Int(config, "num_key_value_heads"))
            .Add("vocab_size", Int(config, "vocab_size"))
            .Add("max_position_embeddings", Int(config, "max_position_embeddings"))
            .Add("tie_word_embeddings", Bool(config, "tie_word_embeddings"))
            .Add("torch_dtype", Text(config, "torch_dtype"))
            .Add("labels", Field(config, "id2label") is { ValueKind: JsonValueKind.Object } labels
                ? labels.EnumerateObject().Select(p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.ToString()).ToList() : null);

        var hasWeights = File.Exists(Path.Combine(dir, HfCheckpoint.SingleFileName)) || File.Exists(Path.Combine(dir, HfCheckpoint.IndexFileName));
        if (hasWeights)
        {
            var tensors = HfCheckpoint.ReadTensorInfos(dir);
            report.Add("parameters", TensorSummary.Parameters(tensors))
                .Add("tensors", (long)tensors.Count)
                .Add("weight_bytes", TensorSummary.Bytes(tensors))
                .Add("dtypes", TensorSummary.ByDType(tensors));
        }
        else
        {
            report.Add("weights", "none (no model.safetensors or model.safetensors.index.json)");
        }
        report.Add("tokenizer", TokenizerFiles.Where(f => File.Exists(Path.Combine(dir, f))).ToList());
        return report;
    }
}
