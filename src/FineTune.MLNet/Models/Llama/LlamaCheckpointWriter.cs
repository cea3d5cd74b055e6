using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Peft;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Llama;

/// <summary>
/// Saves a <see cref="LlamaForCausalLM"/> as a Hugging Face checkpoint folder (<c>config.json</c> +
/// <c>model.safetensors</c>, or shards with an index) that transformers and <see cref="LlamaForCausalLM.FromPretrained"/>
/// load. Adapters are folded into the weights by <see cref="LoraMerge"/> (<c>W + B·A·scaling</c>, computed without
/// changing the model) unless disabled, QLoRA bases dequantized; adapter tensors themselves are not written. Each file
/// is written atomically.
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
        var stored = dtype ?? model.parameters().First().dtype;
        var tensors = LoraMerge.MergedStateDict(model, stored);
        var config = model.Config with { TorchDtype = DtypeName(stored) };
        Directory.CreateDirectory(dir);
        HfCheckpoint.SaveFolder(dir, tensors, maxShardBytes);
        AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson());
    }

    private static string DtypeName(ScalarType t) => t switch
    {
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        _ => "float32",
    };
}
