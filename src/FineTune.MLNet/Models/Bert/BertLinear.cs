using FineTune.MLNet.Peft;

namespace FineTune.MLNet.Models.Bert;

/// <summary>Builds the encoder's linear layers: with a LoRA adapter where the settings target the module name.</summary>
internal static class BertLinear
{
    public static LoraLinear Create(string name, long inFeatures, long outFeatures, LoraSettings? lora) =>
        new(name, inFeatures, outFeatures, hasBias: true, lora is not null && lora.Targets(name) ? lora : null);
}
