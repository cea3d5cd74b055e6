using FineTune.MLNet.Peft;

namespace FineTune.MLNet.Models.Llama;

/// <summary>Builds the decoder blocks' linear layers: a LoRA adapter where the settings target the module name.</summary>
internal static class LlamaLinear
{
    public static LoraLinear Create(string name, long inFeatures, long outFeatures, bool hasBias, LoraSettings? lora) =>
        new(name, inFeatures, outFeatures, hasBias, lora is not null && lora.Targets(name) ? lora : null, quantizeBase: lora?.QuantizeBase == true);
}
