using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Peft;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>A PEFT adapter folder: <c>adapter_config.json</c> (LoRA settings, base model) and the adapter tensors' headers.</summary>
internal static class AdapterInspector
{
    public static InspectionReport Inspect(string dir)
    {
        var config = PeftAdapterIO.ReadConfig(dir);
        var report = new InspectionReport("PEFT adapter", dir)
            .Add("peft_type", config.PeftType)
            .Add("task_type", config.TaskType)
            .Add("base_model", config.BaseModelNameOrPath)
            .Add("rank", (long)config.R)
            .Add("alpha", config.LoraAlpha)
            .Add("scaling", config.UseRsLora ? config.LoraAlpha / Math.Sqrt(config.R) : config.LoraAlpha / config.R)
            .Add("use_rslora", config.UseRsLora)
            .Add("dropout", config.LoraDropout)
            .Add("target_modules", config.TargetModules.ToList());
        var weights = Path.Combine(dir, PeftAdapterIO.WeightsFileName);
        if (!File.Exists(weights))
            return report.Add("weights", $"missing ({PeftAdapterIO.WeightsFileName} not found)");
        var tensors = SafeTensorsFile.ReadHeader(weights);
        return report
            .Add("lora_layers", (long)tensors.Keys.Count(k => k.EndsWith(".lora_A.weight", StringComparison.Ordinal)))
            .Add("parameters", TensorSummary.Parameters(tensors))
            .Add("weight_bytes", TensorSummary.Bytes(tensors))
            .Add("dtypes", TensorSummary.ByDType(tensors));
    }
}
