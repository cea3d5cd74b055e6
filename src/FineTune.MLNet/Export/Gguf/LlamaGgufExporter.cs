using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Import.Gguf;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Export.Gguf;

/// <summary>
/// Writes a <see cref="LlamaForCausalLM"/> (llama / mistral config) as a llama-architecture GGUF v3 file that
/// llama.cpp (and LLamaSharp, Ollama, LM Studio) run: weights with adapters merged and QLoRA bases dequantized
/// (<see cref="LoraMerge.MergedStateDict"/>), q/k rows permuted to llama.cpp's adjacent-pair RoPE layout
/// (<see cref="LlamaRopePermutation.ToGguf"/>), types by <see cref="GgufTensorTypePolicy"/>, llama3 RoPE as a
/// <c>rope_freqs.weight</c> tensor, no <c>output.weight</c> when embeddings are tied, and the tokenizer of the
/// model folder in the metadata (<see cref="GgufTokenizerExporter"/>). Checked with llama.cpp through LLamaSharp.
/// </summary>
public static class LlamaGgufExporter
{
    /// <param name="model">The model (adapters merged or not).</param>
    /// <param name="tokenizerDir">Folder with the model's <c>tokenizer.json</c> (and <c>tokenizer_config.json</c>).</param>
    /// <param name="outputPath">The .gguf file (written atomically).</param>
    /// <param name="options">Type and name; null for defaults.</param>
    public static GgufExportResult Export(LlamaForCausalLM model, string tokenizerDir, string outputPath, GgufExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        options ??= new GgufExportOptions();
        options.Validate();
        var config = model.Config;
        if (config.ModelType is not ("llama" or "mistral"))
            throw new NotSupportedException($"GGUF export supports llama and mistral models (llama.cpp architecture 'llama'); model_type '{config.ModelType}' is not supported.");
        var tokenizer = GgufTokenizerExporter.Build(tokenizerDir, config);
        string name = options.Name ?? new DirectoryInfo(tokenizerDir).Name;
        var metadata = LlamaGgufMetadata.Build(config, name, options.Type);
        metadata.AddRange(tokenizer);

        var tensors = new List<GgufTensorData>();
        using (var scope = torch.NewDisposeScope())
        {
            var weights = LoraMerge.MergedStateDict(model, ScalarType.Float32);
            if (LlamaGgufMetadata.Llama3RopeFactors(config) is { } factors)
                tensors.Add(GgufTensorData.FromBytes("rope_freqs.weight", [factors.Length], GgmlType.F32, GgmlBlocks.Encode(GgmlType.F32, factors)));
            foreach (var (hf, tensor) in weights.OrderBy(kv => Order(kv.Key)).ThenBy(kv => kv.Key, StringComparer.Ordinal))
            {
                string gguf = LlamaGgufNames.ToGguf(hf) ?? throw new InvalidOperationException($"Weight '{hf}' has no llama.cpp name.");
                long[] dims = [.. tensor.shape.Reverse()];                                   // ggml order: row length first
                var values = tensor.data<float>().ToArray();
                long cols = dims.Length == 1 ? 1 : dims[0];
                if (LlamaGgufNames.IsQuery(hf)) values = LlamaRopePermutation.ToGguf(values, config.NumAttentionHeads, cols);
                else if (LlamaGgufNames.IsKey(hf)) values = LlamaRopePermutation.ToGguf(values, config.KeyValueHeads, cols);
                var type = GgufTensorTypePolicy.Choose(dims, options.Type);
                tensors.Add(GgufTensorData.FromBytes(gguf, dims, type, GgmlBlocks.Encode(type, values)));
            }
        }
        GgufWriter.Write(outputPath, metadata, tensors);
        var types = tensors.GroupBy(t => t.Type).ToDictionary(g => g.Key, g => g.Count());
        string tokenizerModel = (string)metadata.First(kv => kv.Key == "tokenizer.ggml.model").Value.Value;
        return new GgufExportResult(Path.GetFullPath(outputPath), new FileInfo(outputPath).Length, types, tokenizerModel);
    }

    /// <summary>convert_hf_to_gguf order: embeddings, the blocks in order, then the final norm and head.</summary>
    private static (int, int) Order(string hf) => hf switch
    {
        "model.embed_tokens.weight" => (0, 0),
        "model.norm.weight" => (2, 0),
        "lm_head.weight" => (3, 0),
        _ when hf.StartsWith("model.layers.", StringComparison.Ordinal) => (1, int.Parse(hf.Split('.')[2], System.Globalization.CultureInfo.InvariantCulture)),
        _ => (4, 0),
    };
}
