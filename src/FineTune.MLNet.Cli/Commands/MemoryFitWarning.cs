using System.CommandLine;
using System.Text.Json.Nodes;
using FineTune.MLNet.Planning;
using FineTune.MLNet.Preflight;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// Before a run: the planner's memory estimate of the run the flags describe (method, batch size, the longest
/// example the preflight found) against MemAvailable; a run that will not fit gets a warning with the batch size that would.
/// </summary>
internal static class MemoryFitWarning
{
    public static void Add(PreflightReport report, ParseResult r, string task)
    {
        var settings = PlanFlags.Training(r, task, report);
        if (settings is null) return;   // the data did not get far enough to know the lengths
        var (model, method, shape) = settings.Value;
        var estimate = model.Estimate(method, shape);
        var available = MachineMemory.AvailableBytes();
        report.Fact("memory_method", method.Name);
        report.Fact("memory_estimate_bytes", Math.Round(estimate.TotalBytes));
        report.Fact("memory_available_bytes", available);
        if (available <= 0 || estimate.TotalBytes <= available) return;
        var fits = model.LargestBatchThatFits(method, shape, available);
        var advice = fits is { } b && b < shape.BatchSize
            ? $"--batch-size {b} would fit"
            : "not even --batch-size 1 fits: use LoRA/QLoRA, --gradient-checkpointing, a shorter --max-length or a smaller model";
        report.Warn($"memory: {method.Name} at --batch-size {shape.BatchSize} and {shape.SequenceLength} tokens needs about {Gib(estimate.TotalBytes)} " +
                    $"(weights {Gib(estimate.WeightBytes)}, gradients {Gib(estimate.GradientBytes)}, optimizer {Gib(estimate.OptimizerBytes)}, " +
                    $"activations {Gib(estimate.ActivationBytes)}, logits {Gib(estimate.LogitsBytes)}), more than the {Gib(available)} available ({MachineMemory.AvailableSource}); {advice}.");
    }

    public static string Gib(double bytes) => bytes >= 1 << 30 ? $"{bytes / (1 << 30):F2} GiB" : $"{bytes / (1 << 20):F1} MiB";
}

/// <summary>The model, training method and step shape that the flags of classify/sft/dpo (and plan) describe.</summary>
internal static class PlanFlags
{
    /// <summary>Null when the report lacks the training lengths (its data had errors before they were measured).</summary>
    public static (PlannedModel Model, TrainingMethod Method, RunShape Shape)? Training(ParseResult r, string task, PreflightReport report)
    {
        if (!report.Facts.TryGetValue("train_tokens_max", out var longest) || longest is null) return null;
        int maxLength = r.GetValue<int>("--max-length");
        int batch = r.GetValue<int>("--batch-size");
        if (task == "classify")
        {
            int labels = report.Facts.TryGetValue("label_distribution", out var d) && d?["train"] is JsonObject train ? Math.Max(2, train.Count) : 2;
            var model = PlannedModel.Classifier(r.GetValue<string>("--model")!, labels);
            var method = r.GetValue<int?>("--lora-rank") is { } rank ? TrainingMethod.Lora(rank) : TrainingMethod.Full;
            return (model, method, new RunShape(batch, Math.Min(maxLength, longest.GetValue<int>()), false, false, EncoderMemory.LoraTargets));
        }
        var decoder = PlannedModel.CausalLm(CausalLmArguments.Name(r.GetValue<DirectoryInfo>("--model")!));
        int loraRank = r.GetValue<int>("--lora-rank");
        var m = (r.GetValue<bool>("--qlora") ? TrainingMethod.QLora(loraRank) : TrainingMethod.Lora(loraRank)) with { LoraDropout = r.GetValue<double>("--lora-dropout") };
        bool packing = task == "sft" && r.GetValue<bool>("--packing");
        int length = packing ? maxLength : Math.Min(maxLength, longest.GetValue<int>());
        return (decoder, m, new RunShape(batch, length, task == "dpo", r.GetValue<bool>("--gradient-checkpointing"), Targets(r.GetValue<string>("--targets")!)));
    }

    public static string[] Targets(string targets) => targets.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
