using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Llama;

/// <summary>
/// Saves a <see cref="LlamaForCausalLM"/> as a Hugging Face checkpoint folder (<c>config.json</c> +
/// <c>model.safetensors</c>, or shards with an index) that transformers and <see cref="LlamaForCausalLM.FromPretrained"/>
/// load. Adapters are folded into the weights (<c>W + B·A·scaling</c>, computed without changing the model) unless
/// disabled; adapter tensors themselves are not written. Each file is written atomically.
/// </summary>
public static class LlamaCheckpointWriter
{
    /// <param name="model">The model; its adapters may be merged or not.</param>
    /// <param name="dir">Output folder (created).</param>
    /// <param name="dtype">Stored dtype (Float32, BFloat16, Float16); null keeps the model's.</param>
    /// <param name="maxShardBytes">Shard the weights above this size; null writes one file.</param>
    public static void SaveMerged(LlamaForCausalLM model, string dir, ScalarType? dtype = null, long? maxShardBytes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(dir);
        using var scope = torch.NewDisposeScope();
        var (tensors, stored) = MergedWeights(model, dtype);
        var config = model.Config with { TorchDtype = DtypeName(stored) };
        Directory.CreateDirectory(dir);
        HfCheckpoint.SaveFolder(dir, tensors, maxShardBytes);
        AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson());
    }

    /// <summary>
    /// The model's weights under their HF keys with adapters folded in (<c>W + B·A·scaling</c> for unmerged, enabled
    /// adapters) and QLoRA bases dequantized; adapter tensors are left out. Tensors are new, on CPU, contiguous, in
    /// <paramref name="dtype"/> (null: the first parameter's dtype), and belong to the caller's dispose scope.
    /// Also used by the ONNX exporter.
    /// </summary>
    internal static (Dictionary<string, Tensor> Tensors, ScalarType Stored) MergedWeights(LlamaForCausalLM model, ScalarType? dtype)
    {
        using var noGrad = torch.no_grad();
        var adapters = model.LoraLayers().ToDictionary(l => l.Name + ".weight", l => l.Layer, StringComparer.Ordinal);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        ScalarType stored = dtype ?? ScalarType.Float32;
        bool first = true;
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.Contains(".lora_A.") || name.Contains(".lora_B.")) continue;
            if (first && dtype is null) stored = p.dtype;
            first = false;
            Tensor value = p.detach();
            if (adapters.TryGetValue(name, out var layer) && !layer.Merged && !layer.AdapterDisabled)
            {
                value = value.add(layer.DeltaWeight().to(value.dtype));   // (out, in)
            }
            tensors[name] = value.to(stored).cpu().contiguous();
        }
        foreach (var (name, module) in model.named_modules())
        {
            if (module is not Peft.LoraLinear { IsQuantized: true } q) continue;
            var value = q.BaseWeight();                                                   // QLoRA: dequantize first
            if (q.HasAdapter && !q.AdapterDisabled) value = value.add(q.DeltaWeight().to(value.dtype));
            tensors[name + ".weight"] = value.to(stored).cpu().contiguous();
        }
        return (tensors, stored);
    }

    private static string DtypeName(ScalarType t) => t switch
    {
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        _ => "float32",
    };
}
