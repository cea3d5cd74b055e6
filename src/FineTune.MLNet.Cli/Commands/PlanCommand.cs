using System.CommandLine;
using System.Text.Json;
using FineTune.MLNet.Data;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Planning;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune plan</c>: before a run, for full fine-tuning, LoRA at several ranks and QLoRA, the trainable parameters,
/// the memory by part (weights, gradients, optimizer, activations, logits) against MemAvailable, and the time per epoch
/// from a few real steps measured on this machine (with the peak memory they took); after runs,
/// <c>--compare RUN_DIR ...</c>: cost against quality side by side.
/// </summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "minilm or a BERT/DistilBERT folder (classify); a llama/mistral/qwen2 folder or bundled name (sft, dpo)." };
        var train = new Option<FileInfo?>("--train") { Description = "Training CSV/TSV: its lengths set the activations and the epoch's tokens." };
        var task = new Option<string?>("--task") { Description = "classify, sft or dpo (default: classify for encoders, sft for decoders)." };
        var batch = new Option<int?>("--batch-size") { Description = "Examples per step (default as the task's command: classify 16, sft/dpo 8)." };
        var maxLength = new Option<int?>("--max-length") { Description = "Longest sequence in tokens (default as the task's command: classify 128, sft/dpo 512)." };
        var ranks = new Option<string>("--lora-ranks") { Description = "Comma-separated LoRA ranks to compare.", DefaultValueFactory = _ => "4,8,16" };
        var targets = new Option<string>("--targets") { Description = "Decoder LoRA target modules (comma-separated, or all-linear).", DefaultValueFactory = _ => "all-linear" };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Decoders: plan with activation checkpointing." };
        var text = new Option<string>("--text-column") { DefaultValueFactory = _ => "text" };
        var label = new Option<string>("--label-column") { DefaultValueFactory = _ => "label" };
        var prompt = new Option<string>("--prompt-column") { DefaultValueFactory = _ => "prompt" };
        var response = new Option<string>("--response-column") { DefaultValueFactory = _ => "response" };
        var chosen = new Option<string>("--chosen-column") { DefaultValueFactory = _ => "chosen" };
        var rejected = new Option<string>("--rejected-column") { DefaultValueFactory = _ => "rejected" };
        var steps = new Option<int>("--calibration-steps") { Description = "Real training steps timed per method (the first is warm-up); 0 skips calibration.", DefaultValueFactory = _ => 3 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var compare = new Option<string[]>("--compare") { Description = "Run folders (the --output of classify/sft/dpo) to compare: cost against quality.", AllowMultipleArgumentsPerToken = true };
        var command = new Command("plan", "Plan a run (memory and time of full fine-tuning, LoRA, QLoRA on this machine), or compare finished runs.")
        {
            model, train, task, batch, maxLength, ranks, targets, checkpointing, text, label, prompt, response, chosen, rejected, steps, seed, device, json, compare,
        };
        command.SetAction(r =>
        {
            try
            {
                if (r.GetValue(compare) is { Length: > 0 } runs) return Compare(runs, r.GetValue(json));
                var m = r.GetValue(model) ?? throw new ArgumentException("--model is required (or --compare RUN_DIR ...).");
                var file = r.GetValue(train) ?? throw new ArgumentException("--train is required (or --compare RUN_DIR ...).");
                var t = r.GetValue(task) ?? DefaultTask(m);
                if (t is not ("classify" or "sft" or "dpo")) throw new ArgumentException($"--task must be classify, sft or dpo, got '{t}'.");
                string[] columns = t switch
                {
                    "classify" => [r.GetValue(text)!, r.GetValue(label)!],
                    "sft" => [r.GetValue(prompt)!, r.GetValue(response)!],
                    _ => [r.GetValue(prompt)!, r.GetValue(chosen)!, r.GetValue(rejected)!],
                };
                var plan = new PlanRequest(t, m, file, columns, r.GetValue(batch) ?? (t == "classify" ? 16 : 8), r.GetValue(maxLength) ?? (t == "classify" ? 128 : 512),
                    ParseRanks(r.GetValue(ranks)!), PlanFlags.Targets(r.GetValue(targets)!), r.GetValue(checkpointing), r.GetValue(steps), r.GetValue(seed), r.GetValue(device)!);
                var result = Plan(plan);
                Console.WriteLine(r.GetValue(json) ? JsonSerializer.Serialize(result, PlanTable.Json) : PlanTable.Format(result));
                return 0;
            }
            catch (Exception e) when (CliErrors.IsBadInput(e))
            {
                return CliErrors.Report(e);
            }
        });
        return command;
    }

    private static string DefaultTask(string model)
    {
        if (string.Equals(model, PretrainedEncoder.MiniLm, StringComparison.OrdinalIgnoreCase)) return "classify";
        var config = Path.Combine(model, "config.json");
        return File.Exists(config) && BertConfig.SupportedModelTypes.Any(t => File.ReadAllText(config).Contains($"\"{t}\"", StringComparison.Ordinal)) ? "classify" : "sft";
    }

    private static int[] ParseRanks(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var ranks = parts.Select(p => int.TryParse(p, out var v) && v is >= 1 and <= 4096 ? v : throw new ArgumentException($"--lora-ranks: '{p}' is not a rank in 1..4096 (expected e.g. 4,8,16).")).ToArray();
        return ranks.Length > 0 ? ranks : throw new ArgumentException("--lora-ranks must list at least one rank (e.g. 4,8,16).");
    }

    private static PlanResult Plan(PlanRequest p)
    {
        if (p.BatchSize < 1) throw new ArgumentException($"--batch-size must be at least 1, got {p.BatchSize}.");
        if (p.MaxLength < 2) throw new ArgumentException($"--max-length must be at least 2, got {p.MaxLength}.");
        if (p.CalibrationSteps < 0) throw new ArgumentException($"--calibration-steps must be 0 or more, got {p.CalibrationSteps}.");
        if (!p.Train.Exists) throw new FileNotFoundException($"--train: file '{p.Train.FullName}' does not exist.", p.Train.FullName);
        var table = DelimitedTextReader.Read(p.Train.FullName);
        var modelName = p.Task == "classify" ? p.Model : CausalLmArguments.Name(new DirectoryInfo(p.Model));
        var data = PlanData.Read(p.Task, table, p.Columns, p.MaxLength, modelName);
        var model = p.Task == "classify"
            ? PlannedModel.Classifier(p.Model, Math.Max(2, table.GetColumn(p.Columns[1]).Distinct(StringComparer.Ordinal).Count()))
            : PlannedModel.CausalLm(modelName);
        int batch = Math.Min(p.BatchSize, table.RowCount);
        var shape = new RunShape(batch, data.Longest, p.Task == "dpo", p.GradientCheckpointing, p.Task == "classify" ? EncoderMemory.LoraTargets : p.Targets);
        long available = MachineMemory.AvailableBytes();
        var calibration = new PlanCalibration(data, modelName, p.Device, p.Seed);
        int stepsPerEpoch = (table.RowCount + batch - 1) / batch;
        var rows = new List<PlanRow>();
        var methods = model.Methods(p.Ranks);
        if (p.CalibrationSteps > 0 && methods.FirstOrDefault(m => model.Offers(m) && model.Estimate(m, shape).TotalBytes <= available) is { } first)
            _ = calibration.Run(first, shape, 1);   // warm-up at the measured shape, not reported: the first run in a process also pays one-time costs (model import, runtime set-up, the native thread pools and scratch buffers of that shape)
        foreach (var method in methods)
        {
            var estimate = model.Estimate(method, shape);
            bool fits = estimate.TotalBytes <= available;
            bool offered = model.Offers(method);
            CalibrationResult? measured = offered && fits && p.CalibrationSteps > 0 ? calibration.Run(method, shape, p.CalibrationSteps) : null;
            double? epochSeconds = null;
            if (measured is not null)
            {
                var timed = data.LongestRowsTokens(p.CalibrationSteps * batch) / (double)Math.Max(1, (int)Math.Ceiling(Math.Min(p.CalibrationSteps * batch, table.RowCount) / (double)batch));
                epochSeconds = measured.SecondsPerStep * data.EpochTokens / Math.Max(1, timed);
            }
            rows.Add(new PlanRow(method.Name, offered, estimate, fits, fits ? null : model.LargestBatchThatFits(method, shape, available), measured, epochSeconds));
        }
        return new PlanResult(p.Task, p.Model, batch, p.MaxLength, data.Longest, table.RowCount, stepsPerEpoch, data.EpochTokens, available, rows);
    }

    private static int Compare(string[] runs, bool json)
    {
        var rows = runs.Select(RunComparison.Read).ToList();
        Console.WriteLine(json ? JsonSerializer.Serialize(rows, PlanTable.Json) : PlanTable.FormatComparison(rows));
        return 0;
    }
}

/// <summary>The flags of one plan.</summary>
internal sealed record PlanRequest(string Task, string Model, FileInfo Train, string[] Columns, int BatchSize, int MaxLength, int[] Ranks,
    string[] Targets, bool GradientCheckpointing, int CalibrationSteps, int Seed, string Device);

/// <summary>One method of a plan: its estimate, whether it fits, and what calibration measured (null when not run).</summary>
internal sealed record PlanRow(string Method, bool Offered, MemoryEstimate Estimate, bool Fits, int? BatchSizeThatFits, CalibrationResult? Measured, double? EpochSeconds);

/// <summary>A plan: the run's shape and one row per method.</summary>
internal sealed record PlanResult(string Task, string Model, int BatchSize, int MaxLength, int SequenceLength, int TrainRows, int StepsPerEpoch,
    long EpochTokens, long AvailableBytes, IReadOnlyList<PlanRow> Methods);
