using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Formats.Gguf;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Import.Gguf;

/// <summary>
/// Converts a llama-architecture GGUF file (tensors F32, F16, BF16, Q8_0, Q4_0) to a Hugging Face
/// <c>LlamaForCausalLM</c> folder: <c>config.json</c>, <c>model.safetensors</c>, <c>tokenizer.json</c> and
/// <c>tokenizer_config.json</c>. F16/BF16 tensors keep their type, F32 stays F32, Q8_0/Q4_0 are dequantized to F32
/// exactly as ggml does (<c>q·d</c> in float32). q/k rows go back to HF's rotate-half layout
/// (<see cref="LlamaRopePermutation.ToHf"/>): llama.cpp's <c>llama</c> architecture always rotates adjacent pairs,
/// so every such file, from an HF model or from llama2.c, needs it. A missing <c>output.weight</c> means tied embeddings.
/// </summary>
public static class GgufLlamaImporter
{
    /// <summary>Imports <paramref name="ggufPath"/> into <paramref name="outputDir"/> (created; files written atomically).</summary>
    public static GgufImportResult Import(string ggufPath, string outputDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(ggufPath);
        ArgumentException.ThrowIfNullOrEmpty(outputDir);
        var file = GgufFile.Read(ggufPath);
        var config = GgufLlamaConfig.Read(file);
        var (tokenizerJson, tokenizerConfigJson) = GgufTokenizerImporter.Build(file);
        var expected = ExpectedShapes(config);
        var unknown = file.Tensors.Where(t => LlamaGgufNames.ToHf(t.Name) is not { } hf || !expected.ContainsKey(hf)).Select(t => $"'{t.Name}'").ToList();
        if (unknown.Count > 0)
            throw new NotSupportedException($"GGUF file '{ggufPath}': tensors {string.Join(", ", unknown.Take(10))} are not part of a llama model with this config.");
        var missing = expected.Keys.Where(k => file.FindTensor(LlamaGgufNames.ToGguf(k)!) is null).ToList();
        if (missing.Count > 0)
            throw new GgufFormatException(ggufPath, "tensors", $"missing {string.Join(", ", missing.Take(10).Select(k => $"'{LlamaGgufNames.ToGguf(k)}'"))}.");

        Directory.CreateDirectory(outputDir);
        using (var scope = torch.NewDisposeScope())
        {
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var info in file.Tensors)
            {
                var hf = LlamaGgufNames.ToHf(info.Name)!;
                var shape = info.TorchShape;
                if (!shape.SequenceEqual(expected[hf]))
                    throw new GgufFormatException(ggufPath, $"tensor '{info.Name}'", $"shape [{string.Join(", ", shape)}] (PyTorch order) does not match the config's [{string.Join(", ", expected[hf])}].");
                tensors[hf] = ToTensor(file, info, hf, config);
            }
            HfCheckpoint.SaveFolder(outputDir, tensors);
        }
        AtomicFile.WriteAllText(Path.Combine(outputDir, "config.json"), config.ToJson());
        AtomicFile.WriteAllText(Path.Combine(outputDir, "tokenizer.json"), tokenizerJson);
        AtomicFile.WriteAllText(Path.Combine(outputDir, "tokenizer_config.json"), tokenizerConfigJson);
        var types = file.Tensors.GroupBy(t => t.Type).ToDictionary(g => g.Key, g => g.Count());
        return new GgufImportResult(config, types, file.GetString("tokenizer.ggml.model")!);
    }

    private static Tensor ToTensor(GgufFile file, GgufTensorInfo info, string hf, LlamaConfig config)
    {
        var values = file.ReadTensorAsFloat32(info);
        long cols = info.Dimensions.Count == 1 ? 1 : info.Dimensions[0];   // biases are one column
        if (LlamaGgufNames.IsQuery(hf)) values = LlamaRopePermutation.ToHf(values, config.NumAttentionHeads, cols);
        else if (LlamaGgufNames.IsKey(hf)) values = LlamaRopePermutation.ToHf(values, config.KeyValueHeads, cols);
        var t = torch.tensor(values, info.TorchShape, ScalarType.Float32);
        return info.Type switch
        {
            GgmlType.F16 => t.to_type(ScalarType.Float16),    // exact: the values came from F16
            GgmlType.BF16 => t.to_type(ScalarType.BFloat16),
            _ => t,
        };
    }

    /// <summary>HF key -> PyTorch shape of every base weight of <paramref name="c"/>.</summary>
    internal static Dictionary<string, long[]> ExpectedShapes(LlamaConfig c)
    {
        long h = c.HiddenSize, q = (long)c.NumAttentionHeads * c.EffectiveHeadDim, kv = (long)c.KeyValueHeads * c.EffectiveHeadDim, ff = c.IntermediateSize;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            ["model.embed_tokens.weight"] = [c.VocabSize, h],
            ["model.norm.weight"] = [h],
        };
        if (!c.TieWordEmbeddings) shapes["lm_head.weight"] = [c.VocabSize, h];
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string p = $"model.layers.{i}.";
            shapes[p + "input_layernorm.weight"] = [h];
            shapes[p + "post_attention_layernorm.weight"] = [h];
            shapes[p + "self_attn.q_proj.weight"] = [q, h];
            shapes[p + "self_attn.k_proj.weight"] = [kv, h];
            shapes[p + "self_attn.v_proj.weight"] = [kv, h];
            shapes[p + "self_attn.o_proj.weight"] = [h, q];
            shapes[p + "mlp.gate_proj.weight"] = [ff, h];
            shapes[p + "mlp.up_proj.weight"] = [ff, h];
            shapes[p + "mlp.down_proj.weight"] = [h, ff];
            if (c.AttentionBias)
            {
                shapes[p + "self_attn.q_proj.bias"] = [q];
                shapes[p + "self_attn.k_proj.bias"] = [kv];
                shapes[p + "self_attn.v_proj.bias"] = [kv];
                shapes[p + "self_attn.o_proj.bias"] = [h];
            }
            if (c.MlpBias)
            {
                shapes[p + "mlp.gate_proj.bias"] = [ff];
                shapes[p + "mlp.up_proj.bias"] = [ff];
                shapes[p + "mlp.down_proj.bias"] = [h];
            }
        }
        return shapes;
    }
}
