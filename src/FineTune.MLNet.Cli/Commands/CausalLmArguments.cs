using System.CommandLine;
using FineTune.MLNet.Models.Llama;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>The <c>--model</c> / <c>--adapter</c> / <c>--device</c> options shared by the decoder commands, and the loading they describe.</summary>
internal sealed class CausalLmArguments
{
    public Option<DirectoryInfo> Model { get; } = new("--model") { Description = "Hugging Face llama / mistral / qwen2 checkpoint folder.", Required = true };
    public Option<DirectoryInfo?> Adapter { get; } = new("--adapter") { Description = "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)." };
    public Option<string> Device { get; } = new("--device") { DefaultValueFactory = _ => "cpu" };

    public IEnumerable<Option> All => [Model, Adapter, Device];

    /// <summary>The base checkpoint, with the adapter (unmerged) when one is given; in eval mode.</summary>
    public static LlamaForCausalLM Load(DirectoryInfo model, DirectoryInfo? adapter, string device)
    {
        if (!model.Exists) throw new DirectoryNotFoundException($"--model: folder '{model.FullName}' does not exist.");
        if (adapter is null) return LlamaForCausalLM.FromPretrained(model.FullName, device: device);
        if (!adapter.Exists) throw new DirectoryNotFoundException($"--adapter: folder '{adapter.FullName}' does not exist.");
        var loaded = LlamaForCausalLM.FromPretrainedWithAdapter(model.FullName, adapter.FullName, device);
        loaded.eval();
        return loaded;
    }
}
