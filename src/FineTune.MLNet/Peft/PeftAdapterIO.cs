using System.Text;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Peft;

/// <summary>
/// Saves and loads LoRA adapters in PEFT's format (<c>save_pretrained</c> / <c>PeftModel.from_pretrained</c>):
/// <c>adapter_config.json</c> + <c>adapter_model.safetensors</c> with keys
/// <c>base_model.model.&lt;module path&gt;.lora_A.weight</c> (r, in) and <c>.lora_B.weight</c> (out, r), i.e. the
/// model's own LoRA parameter names under PEFT's prefix (PEFT's <c>get_peft_model_state_dict</c> strips the adapter
/// name). Works on any module whose LoRA layers are <see cref="LoraLinear"/>s.
/// </summary>
public static class PeftAdapterIO
{
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>The prefix PEFT's <c>PeftModel</c> puts before the wrapped model's parameter names.</summary>
    public const string KeyPrefix = "base_model.model.";

    /// <summary>
    /// Writes the adapters of <paramref name="model"/> to <paramref name="dir"/> (weights first, then the config; each
    /// file atomically). Adapter tensors keep their dtype. <c>target_modules</c> lists the adapted module names.
    /// </summary>
    public static void Save(nn.Module model, LoraSettings settings, string dir, string? baseModelNameOrPath = null, string taskType = "CAUSAL_LM")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrEmpty(dir);
        var layers = AdapterLayers(model);
        if (layers.Count == 0) throw new InvalidOperationException("The model has no LoRA adapters to save.");
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in AdapterParameters(model))
        {
            tensors[KeyPrefix + name] = p.detach().cpu().contiguous();
        }
        var config = PeftAdapterConfig.FromLoraSettings(settings, layers.Keys.Select(LastComponent), baseModelNameOrPath, taskType);
        Directory.CreateDirectory(dir);
        SafeTensorsFile.Save(Path.Combine(dir, WeightsFileName), tensors);
        AtomicFile.WriteAllText(Path.Combine(dir, PeftAdapterConfig.FileName), config.ToJson());
    }

    /// <summary>Reads <c>adapter_config.json</c> of <paramref name="dir"/> (see <see cref="PeftAdapterConfig.FromJsonFile"/>).</summary>
    public static PeftAdapterConfig ReadConfig(string dir) => PeftAdapterConfig.FromJsonFile(Path.Combine(dir, PeftAdapterConfig.FileName));

    /// <summary>
    /// Copies a PEFT adapter into the existing LoRA layers of <paramref name="model"/> (built with
    /// <see cref="PeftAdapterConfig.ToLoraSettings"/>). Checks, before copying anything: every tensor key maps to a
    /// LoRA parameter of the model (unexpected keys are listed), every LoRA layer of the model gets both tensors,
    /// each layer's rank and scaling equal the config's, and shapes agree. Merged layers are refused.
    /// </summary>
    public static PeftAdapterConfig Load(nn.Module model, string dir)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(dir);
        var config = ReadConfig(dir);
        var weightsPath = Path.Combine(dir, WeightsFileName);
        if (!File.Exists(weightsPath))
        {
            var hint = File.Exists(Path.Combine(dir, "adapter_model.bin")) ? " (only the pickle 'adapter_model.bin' is present; it is not loaded for safety, convert it to safetensors)" : "";
            throw new FileNotFoundException($"Adapter folder '{dir}' has no '{WeightsFileName}'{hint}.", weightsPath);
        }
        var layers = AdapterLayers(model);
        var settings = config.ToLoraSettings();
        foreach (var (name, layer) in layers)
        {
            if (layer.Merged) throw new InvalidOperationException($"LoRA layer '{name}' is merged; unmerge the adapters before loading new ones.");
            if (layer.Rank != config.R)
                throw new InvalidDataException($"Adapter '{dir}': r is {config.R} but the model's LoRA layer '{name}' has rank {layer.Rank}; build the model with the adapter's settings.");
            if (Math.Abs(layer.Scaling - settings.Scaling) > 1e-12 * Math.Max(1, settings.Scaling))
                throw new InvalidDataException($"Adapter '{dir}': scaling {settings.Scaling} (lora_alpha {config.LoraAlpha}, use_rslora {config.UseRsLora}) differs from layer '{name}' ({layer.Scaling}).");
        }
        var targets = AdapterParameters(model).ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);
        using var scope = torch.NewDisposeScope();
        var tensors = SafeTensorsFile.Load(weightsPath);
        var mapped = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (var (key, tensor) in tensors)
        {
            var name = ModelKey(key);
            if (name is not null && targets.ContainsKey(name)) mapped[name] = tensor;
            else unexpected.Add(key);
        }
        var missing = targets.Keys.Where(k => !mapped.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0 || missing.Count > 0)
        {
            var message = new StringBuilder($"Adapter '{weightsPath}' does not match the model's LoRA layers (target_modules {string.Join(", ", config.TargetModules)}).");
            if (unexpected.Count > 0) message.Append($" Unexpected keys ({unexpected.Count}, no LoRA layer of that name): {List(unexpected.Order(StringComparer.Ordinal))}.");
            if (missing.Count > 0) message.Append($" Missing tensors ({missing.Count}): {List(missing.Select(m => KeyPrefix + m))}.");
            throw new InvalidDataException(message.ToString());
        }
        foreach (var (name, tensor) in mapped)
        {
            var target = targets[name];
            if (!tensor.shape.SequenceEqual(target.shape))
            {
                throw new InvalidDataException(
                    $"Adapter '{weightsPath}': '{KeyPrefix}{name}' has shape [{string.Join(", ", tensor.shape)}], the model expects [{string.Join(", ", target.shape)}] (r = {config.R}).");
            }
        }
        using (torch.no_grad())
        {
            foreach (var (name, tensor) in mapped) targets[name].copy_(tensor);
        }
        return config;
    }

    /// <summary>The model parameter name of an adapter key, or null if it is not a LoRA A/B key.</summary>
    private static string? ModelKey(string key)
    {
        if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal)) return null;
        var name = key[KeyPrefix.Length..];
        // Tolerate an un-stripped adapter name ("lora_A.default.weight"), as PEFT's loader does.
        foreach (var ab in new[] { ".lora_A.", ".lora_B." })
        {
            int i = name.IndexOf(ab, StringComparison.Ordinal);
            if (i < 0) continue;
            var rest = name[(i + ab.Length)..];
            if (rest == "weight") return name;
            if (rest.EndsWith(".weight", StringComparison.Ordinal) && !rest[..^".weight".Length].Contains('.'))
                return name[..(i + ab.Length)] + "weight";
        }
        return null;
    }

    private static Dictionary<string, LoraLinear> AdapterLayers(nn.Module model) =>
        model.named_modules().Where(m => m.module is LoraLinear { HasAdapter: true })
            .ToDictionary(m => m.name, m => (LoraLinear)m.module, StringComparer.Ordinal);

    private static IEnumerable<(string Name, TorchSharp.Modules.Parameter Parameter)> AdapterParameters(nn.Module model) =>
        model.named_parameters().Where(p => p.name.EndsWith(".lora_A.weight", StringComparison.Ordinal) || p.name.EndsWith(".lora_B.weight", StringComparison.Ordinal))
            .Select(p => (p.name, p.parameter));

    private static string LastComponent(string name) => name[(name.LastIndexOf('.') + 1)..];

    private static string List(IEnumerable<string> names)
    {
        var all = names.ToList();
        return string.Join(", ", all.Take(20).Select(n => $"'{n}'")) + (all.Count > 20 ? $", ... and {all.Count - 20} more" : "");
    }
}
