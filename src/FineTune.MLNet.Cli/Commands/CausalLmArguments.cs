using System.CommandLine;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Models.Pretrained;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>The <c>--model</c> / <c>--adapter</c> / <c>--device</c> options shared by the decoder commands, and the loading they describe.</summary>
internal sealed class CausalLmArguments
{
    public Option<DirectoryInfo> Model { get; } = new("--model") { Description = $"Hugging Face llama / mistral / qwen2 checkpoint folder, or a bundled model: {string.Join(", ", PretrainedDecoders.Names)}.", Required = true };
    public Option<DirectoryInfo?> Adapter { get; } = new("--adapter") { Description = "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)." };
    public Option<string> Device { get; } = new("--device") { DefaultValueFactory = _ => "cpu" };

    public IEnumerable<Option> All => [Model, Adapter, Device];

    /// <summary>The folder <c>--model</c> names: an existing folder, or a bundled model's extracted folder.</summary>
    public static string Folder(DirectoryInfo model) => PretrainedDecoders.ResolveFolder(Name(model));

    /// <summary>What options records keep for <c>--model</c>: a bundled model's name as given, else the folder's full path (checked to exist).</summary>
    public static string Name(DirectoryInfo model)
    {
        if (model.Exists) return model.FullName;
        var given = model.ToString();
        if (PretrainedDecoders.IsName(given)) return given;
        throw new DirectoryNotFoundException($"--model: folder '{model.FullName}' does not exist, and '{given}' is not a bundled model ({string.Join(", ", PretrainedDecoders.Names)}).");
    }

    /// <summary>The base checkpoint, with the adapter (unmerged) when one is given; in eval mode.</summary>
    public static LlamaForCausalLM Load(DirectoryInfo model, DirectoryInfo? adapter, string device)
    {
        var folder = Folder(model);
        if (adapter is null) return LlamaForCausalLM.FromPretrained(folder, device: device);
        if (!adapter.Exists) throw new DirectoryNotFoundException($"--adapter: folder '{adapter.FullName}' does not exist.");
        var loaded = LlamaForCausalLM.FromPretrainedWithAdapter(folder, adapter.FullName, device);
        loaded.eval();
        return loaded;
    }
}
