using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Models.Llama;

namespace FineTune.MLNet.Export.GenAi;

/// <summary>
/// Writes an ONNX Runtime GenAI model folder, laid out as its model builder writes one: <c>model.onnx</c> (the decoder
/// with a KV cache from <see cref="LlamaOnnxExporter"/>, adapters merged, QLoRA dequantized; inputs <c>input_ids</c>,
/// <c>attention_mask</c>, <c>position_ids</c>, <c>past_key_values.%d.key/value</c>, outputs <c>logits</c>,
/// <c>present.%d.key/value</c>), <c>genai_config.json</c> (decoder shape, those names, token ids, greedy search
/// defaults; <c>past_present_share_buffer</c> false, since the graph concatenates past and current keys), and the
/// tokenizer files of the source folder (<c>tokenizer.json</c>, <c>tokenizer_config.json</c>, ...), which GenAI's
/// tokenizer reads. Checked with Microsoft.ML.OnnxRuntimeGenAI 0.18 (greedy ids equal the TorchSharp generator's).
/// </summary>
public static class GenAiFolderExporter
{
    /// <summary>The files copied from the source folder when present (<c>tokenizer.json</c> is required).</summary>
    public static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"];

    /// <summary>GenAI model types this exporter writes (the <c>model_type</c> of the checkpoint).</summary>
    public static readonly string[] ModelTypes = ["llama", "mistral", "qwen2"];

    /// <summary>Exports <paramref name="model"/> (tokenizer files from <paramref name="sourceFolder"/>) to <paramref name="outputFolder"/>.</summary>
    /// <remarks>Weights above <paramref name="externalDataAboveBytes"/> (default 1 GiB; 0 = always) are written to <c>model.onnx.data</c>.</remarks>
    public static void Export(LlamaForCausalLM model, string sourceFolder, string outputFolder, OnnxWeightPrecision precision = OnnxWeightPrecision.Float32, long externalDataAboveBytes = 1L << 30)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        if (!ModelTypes.Contains(config.ModelType))
            throw new ArgumentException($"model_type '{config.ModelType}' has no ONNX Runtime GenAI type here (expected {string.Join(", ", ModelTypes)}).", nameof(model));
        if (!File.Exists(Path.Combine(sourceFolder, "tokenizer.json")))
            throw new FileNotFoundException($"'{sourceFolder}' has no tokenizer.json, which an ONNX Runtime GenAI folder needs.", Path.Combine(sourceFolder, "tokenizer.json"));
        Directory.CreateDirectory(outputFolder);
        LlamaOnnxExporter.Export(model, Path.Combine(outputFolder, "model.onnx"), new LlamaOnnxExportOptions { WithKvCache = true, WeightPrecision = precision, ExternalDataAboveBytes = externalDataAboveBytes });
        foreach (var file in TokenizerFiles)
        {
            var source = Path.Combine(sourceFolder, file);
            if (File.Exists(source)) AtomicFile.Write(Path.Combine(outputFolder, file), s => { using var f = File.OpenRead(source); f.CopyTo(s); });
        }
        AtomicFile.WriteAllText(Path.Combine(outputFolder, "genai_config.json"), Config(model).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The <c>genai_config.json</c> of <paramref name="model"/>.</summary>
    public static JsonObject Config(LlamaForCausalLM model)
    {
        var c = model.Config;
        var heads = c.NumAttentionHeads;
        var eos = c.EosTokenIds.Count switch { 0 => (JsonNode?)null, 1 => c.EosTokenIds[0], _ => new JsonArray([.. c.EosTokenIds.Select(i => (JsonNode)i)]) };
        var pad = c.PadTokenId ?? (c.EosTokenIds.Count > 0 ? c.EosTokenIds[0] : 0);
        return new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["bos_token_id"] = c.BosTokenId,
                ["context_length"] = c.MaxPositionEmbeddings,
                ["decoder"] = new JsonObject
                {
                    ["session_options"] = new JsonObject { ["log_id"] = "onnxruntime-genai", ["provider_options"] = new JsonArray() },
                    ["filename"] = "model.onnx",
                    ["head_size"] = c.HeadDim ?? c.HiddenSize / heads,
                    ["hidden_size"] = c.HiddenSize,
                    ["inputs"] = new JsonObject
                    {
                        ["input_ids"] = LlamaOnnxExporter.InputIdsName,
                        ["attention_mask"] = LlamaOnnxExporter.AttentionMaskName,
                        ["position_ids"] = LlamaOnnxExporter.PositionIdsName,
                        ["past_key_names"] = "past_key_values.%d.key",
                        ["past_value_names"] = "past_key_values.%d.value",
                    },
                    ["outputs"] = new JsonObject
                    {
                        ["logits"] = LlamaOnnxExporter.LogitsName,
                        ["present_key_names"] = "present.%d.key",
                        ["present_value_names"] = "present.%d.value",
                    },
                    ["num_attention_heads"] = heads,
                    ["num_hidden_layers"] = c.NumHiddenLayers,
                    ["num_key_value_heads"] = c.NumKeyValueHeads ?? heads,
                },
                ["eos_token_id"] = eos,
                ["pad_token_id"] = pad,
                ["type"] = c.ModelType,
                ["vocab_size"] = c.VocabSize,
            },
            ["search"] = new JsonObject
            {
                ["diversity_penalty"] = 0.0,
                ["do_sample"] = false,
                ["early_stopping"] = true,
                ["length_penalty"] = 1.0,
                ["max_length"] = c.MaxPositionEmbeddings,
                ["min_length"] = 0,
                ["no_repeat_ngram_size"] = 0,
                ["num_beams"] = 1,
                ["num_return_sequences"] = 1,
                ["past_present_share_buffer"] = false,
                ["repetition_penalty"] = 1.0,
                ["temperature"] = 1.0,
                ["top_k"] = 1,
                ["top_p"] = 1.0,
            },
        };
    }
}
