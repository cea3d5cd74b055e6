using static TorchSharp.torch;

namespace FineTune.MLNet.Peft;

/// <summary>
/// Folds LoRA updates into a model's weights for saving and export (the adapters stay as they are): the one merge
/// behind the classifier's HF save, <c>LlamaCheckpointWriter.SaveMerged</c> and the ONNX and GGUF exporters.
/// </summary>
internal static class LoraMerge
{
    /// <summary>
    /// The model's parameters and persistent buffers under their state-dict names, with every unmerged, enabled
    /// <see cref="LoraLinear"/> update (<c>W + B·A·scaling</c>, PEFT's merge) folded into its <c>.weight</c>, QLoRA
    /// bases dequantized into <c>.weight</c> (their NF4 buffers left out) and adapter tensors (<c>.lora_*</c>) left out.
    /// Tensors are on CPU, contiguous, floating ones in <paramref name="dtype"/> (null: each keeps its own); they belong
    /// to the caller's dispose scope and may share storage with the model's own (read them, do not write into them).
    /// </summary>
    public static Dictionary<string, Tensor> MergedStateDict(nn.Module model, ScalarType? dtype = null)
    {
        using var _ = no_grad();
        var layers = model.named_modules().Where(m => m.module is LoraLinear)
            .Select(m => (m.name, Layer: (LoraLinear)m.module)).ToList();
        var byWeight = layers.ToDictionary(l => l.name + ".weight", l => l.Layer, StringComparer.Ordinal);
        var quantized = layers.Where(l => l.Layer.IsQuantized).ToList();
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.Contains(".lora_")) continue;
            var value = p.detach();
            dict[name] = byWeight.TryGetValue(name, out var layer) ? WithUpdate(layer, value) : value;
        }
        foreach (var (name, layer) in quantized) dict[name + ".weight"] = WithUpdate(layer, layer.BaseWeight());   // QLoRA: dequantize first
        var quantizedBuffers = quantized.Select(l => l.name + ".base_layer.").ToList();
        foreach (var (name, b) in model.named_buffers(recurse: true, include_nonpersistent: false))
        {
            if (!quantizedBuffers.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal))) dict[name] = b.detach();
        }
        foreach (var name in dict.Keys.ToList())
        {
            var value = dict[name];
            if (dtype is { } d && value.is_floating_point()) value = value.to(d);
            dict[name] = value.cpu().contiguous();
        }
        return dict;
    }

    private static Tensor WithUpdate(LoraLinear layer, Tensor weight) =>
        layer is { HasAdapter: true, Merged: false, AdapterDisabled: false }
            ? weight.add(layer.DeltaWeight().to(weight.dtype))   // (out, in)
            : weight;
}
