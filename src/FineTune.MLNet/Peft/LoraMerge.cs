using static TorchSharp.torch;

namespace FineTune.MLNet.Peft;

/// <summary>Folds LoRA updates into a model's weights for saving and export (the adapters stay as they are).</summary>
internal static class LoraMerge
{
    /// <summary>
    /// The model's parameters and buffers as CPU tensors under their state-dict names, with every unmerged
    /// <see cref="LoraLinear"/> update (<c>W + B·A·scaling</c>) folded into its <c>.weight</c> and adapter tensors
    /// (<c>.lora_*</c>) left out. The tensors belong to the caller's dispose scope.
    /// </summary>
    public static Dictionary<string, Tensor> MergedStateDict(nn.Module model)
    {
        var loraByWeight = model.named_modules().Where(m => m.module is LoraLinear { HasAdapter: true })
            .ToDictionary(m => m.name + ".weight", m => (LoraLinear)m.module);
        var dict = new Dictionary<string, Tensor>();
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.Contains(".lora_")) continue;
            dict[name] = loraByWeight.TryGetValue(name, out var lora) && !lora.Merged
                ? p.detach().add(lora.DeltaWeight()).cpu()     // (out, in)
                : p.detach().cpu();
        }
        foreach (var (name, b) in model.named_buffers()) dict[name] = b.detach().cpu();
        return dict;
    }
}
