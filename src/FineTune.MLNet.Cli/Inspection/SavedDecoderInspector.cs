using System.Text.Json;
using FineTune.MLNet.Formats.Json;
using static FineTune.MLNet.Cli.Inspection.JsonValues;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>
/// A folder written by <c>LoraFineTuneTransformer.Save</c> (SFT/DPO): the base model and settings of
/// <c>lora_finetune.json</c>, then its <c>adapter/</c> as <see cref="AdapterInspector"/> reports it.
/// </summary>
internal static class SavedDecoderInspector
{
    public const string ManifestFile = "lora_finetune.json";

    public static InspectionReport Inspect(string dir)
    {
        var path = Path.Combine(dir, ManifestFile);
        using var doc = JsonInput.ParseFile(path, "Manifest", (problem, inner) => new InvalidDataException($"Manifest '{path}' {problem}.", inner), JsonInput.MaxConfigFileBytes);
        var root = doc.RootElement;
        var report = new InspectionReport("fine-tuned decoder (LoRA adapter + settings)", dir)
            .Add("base_model", Text(root, "base_model"))
            .Add("prompt_column", Text(root, "prompt_column"))
            .Add("output_column", Text(root, "output_column"))
            .Add("max_length", Field(root, "data") is { } data ? Int(data, "MaxLength") : null)
            .Add("qlora", Field(root, "lora") is { } lora ? Bool(lora, "QuantizeBase") : null)
            .Add("dpo_history", File.Exists(Path.Combine(dir, "dpo_history.json")));
        var adapter = Path.Combine(dir, "adapter");
        if (Directory.Exists(adapter))
            foreach (var (key, value) in AdapterInspector.Inspect(adapter).Fields.Where(f => f.Key != "base_model")) report.Add("adapter." + key, value);
        return report;
    }
}
