namespace FineTune.MLNet.Peft;

/// <summary>Builds the models' linear layers: a LoRA adapter where the settings target the module name.</summary>
internal static class LinearFactory
{
    /// <param name="name">The module's name as in the checkpoint (<c>query</c>, <c>q_proj</c>), matched against <see cref="LoraSettings.TargetModules"/>.</param>
    /// <param name="quantizeBase">Store the frozen base weight as NF4 (QLoRA).</param>
    public static LoraLinear Create(string name, long inFeatures, long outFeatures, bool hasBias, LoraSettings? lora, bool quantizeBase = false) =>
        new(name, inFeatures, outFeatures, hasBias, lora is not null && lora.Targets(name) ? lora : null, quantizeBase);
}
