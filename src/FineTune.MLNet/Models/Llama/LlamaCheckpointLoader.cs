using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Peft;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Llama;

/// <summary>Builds a <see cref="LlamaForCausalLM"/> from a Hugging Face folder with strict key matching.</summary>
internal static class LlamaCheckpointLoader
{
    public static LlamaForCausalLM Load(string dir, LoraSettings? lora, string device, ScalarType? dtype)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        ArgumentException.ThrowIfNullOrEmpty(device);
        dir = PretrainedDecoders.ResolveFolder(dir);                  // a bundled decoder's name opens its extracted folder
        var config = LlamaConfig.FromJsonFile(Path.Combine(dir, "config.json"));
        var target = ResolveDtype(config, device, dtype);
        var model = new LlamaForCausalLM(config, lora);
        try
        {
            LoadStreaming(model, dir);
            model.to(new Device(device)).to(target);
            if (lora is not null) model.FreezeAllButAdapters();
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the checkpoint shard by shard, tensor by tensor: names and shapes are checked against the model from the
    /// safetensors headers first (the same errors as <see cref="LoadStrict"/>), then each tensor is read, copied into its
    /// parameter (converted to the parameter's dtype) or quantized to NF4 (QLoRA), and freed before the next is read.
    /// Peak memory is the model plus the largest tensor and its float32 copy, never the float checkpoint.
    /// </summary>
    internal static void LoadStreaming(LlamaForCausalLM model, string dir)
    {
        var infos = HfCheckpoint.ReadTensorInfos(dir);
        var quantized = QuantizedLayers(model);
        var targets = StateDictLoader.Targets(model);
        CheckNames(model, infos.Keys, quantized, targets.Keys, dir);
        foreach (var (name, target) in targets)
        {
            if (infos.TryGetValue(name, out var info) && !info.Shape.SequenceEqual(target.shape))
                throw new InvalidOperationException($"Shape mismatch for '{name}': the module expects [{string.Join(", ", target.shape)}], the checkpoint has [{string.Join(", ", info.Shape)}].");
        }
        HfCheckpoint.StreamFolder(dir, (name, tensor) =>
        {
            if (quantized.TryGetValue(name, out var layer)) layer.LoadBaseWeight(tensor);   // QLoRA: to NF4 as it arrives
            else if (targets.TryGetValue(name, out var target))
            {
                using var _ = no_grad();
                target.copy_(tensor);                                                        // converts the dtype
            }
        });
    }

    private static Dictionary<string, LoraLinear> QuantizedLayers(LlamaForCausalLM model) =>
        model.named_modules().Where(m => m.module is LoraLinear { IsQuantized: true })
            .ToDictionary(m => m.name + ".weight", m => (LoraLinear)m.module, StringComparer.Ordinal);

    /// <summary>Throws listing missing and unexpected keys by name (adapter and NF4 storage keys are the model's own).</summary>
    private static void CheckNames(LlamaForCausalLM model, IEnumerable<string> stored, Dictionary<string, LoraLinear> quantized, IEnumerable<string> targets, string source)
    {
        var storedSet = stored.ToHashSet(StringComparer.Ordinal);
        var targetSet = targets.ToHashSet(StringComparer.Ordinal);
        var missing = targetSet.Where(k => !storedSet.Contains(k)).Order(StringComparer.Ordinal).ToList();
        missing.AddRange(quantized.Keys.Where(k => !storedSet.Contains(k)));
        missing = [.. missing.Where(k => !k.Contains(".lora_A.") && !k.Contains(".lora_B.") && !k.Contains(".base_layer.")).Order(StringComparer.Ordinal)];
        var unexpected = storedSet.Where(k => !targetSet.Contains(k) && !quantized.ContainsKey(k) && !k.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        ThrowIfMismatch(model, missing, unexpected, source);
    }

    /// <summary>Copies the base weights; throws listing missing and unexpected keys by name.</summary>
    internal static void LoadStrict(LlamaForCausalLM model, IReadOnlyDictionary<string, Tensor> state, string source)
    {
        var remaining = new Dictionary<string, Tensor>(state);
        foreach (var (name, module) in model.named_modules())
        {
            if (module is not LoraLinear { IsQuantized: true } layer || !remaining.Remove(name + ".weight", out var w)) continue;
            layer.LoadBaseWeight(w);                       // QLoRA: quantize to NF4 as the weight is loaded
        }
        var report = StateDictLoader.LoadInto(model, remaining, strict: false);
        var missing = report.Missing.Where(k => !k.Contains(".lora_A.") && !k.Contains(".lora_B.") && !k.Contains(".base_layer.")).ToList();
        var unexpected = report.Unexpected.Where(k => !k.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)).ToList();
        ThrowIfMismatch(model, missing, unexpected, source);
    }

    private static void ThrowIfMismatch(LlamaForCausalLM model, List<string> missing, List<string> unexpected, string source)
    {
        if (missing.Count == 0 && unexpected.Count == 0) return;
        var c = model.Config;
        var message = $"Checkpoint '{source}' does not match {c.Architecture} (model_type {c.ModelType}, tie_word_embeddings {c.TieWordEmbeddings.ToString().ToLowerInvariant()}, {c.NumHiddenLayers} layers).";
        if (missing.Count > 0) message += $" Missing keys ({missing.Count}): {List(missing)}.";
        if (unexpected.Count > 0) message += $" Unexpected keys ({unexpected.Count}): {List(unexpected)}.";
        if (c.TieWordEmbeddings && unexpected.Contains("lm_head.weight"))
            message += " The config ties the head to model.embed_tokens.weight, so lm_head.weight is not expected.";
        if (!c.TieWordEmbeddings && missing.Contains("lm_head.weight"))
            message += " The config does not tie word embeddings (tie_word_embeddings false), so lm_head.weight is required.";
        throw new InvalidDataException(message);
    }

    internal static ScalarType ResolveDtype(LlamaConfig config, string device, ScalarType? dtype)
    {
        if (dtype is ScalarType explicitType)
        {
            if (explicitType is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float64))
                throw new ArgumentException($"dtype must be a floating type (Float32, BFloat16, Float16), got {explicitType}.", nameof(dtype));
            return explicitType;
        }
        if (new Device(device).type == DeviceType.CPU) return ScalarType.Float32;
        return config.TorchDtype switch
        {
            "bfloat16" => ScalarType.BFloat16,
            "float16" => ScalarType.Float16,
            _ => ScalarType.Float32,
        };
    }

    private static string List(List<string> names) =>
        string.Join(", ", names.Take(20).Select(n => $"'{n}'")) + (names.Count > 20 ? $", ... and {names.Count - 20} more" : "");
}
