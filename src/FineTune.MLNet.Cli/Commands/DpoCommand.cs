using System.CommandLine;
using System.Text.Json;
using FineTune.MLNet.Data;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Dpo;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune dpo</c>: DPO preference alignment (TRL's sigmoid loss) of a llama-family checkpoint with LoRA / QLoRA
/// adapters, fresh or continued from an SFT adapter, on a CSV/TSV of prompts with chosen and rejected completions; saves
/// the PEFT adapter and writes the final metrics under TRL's names, every step's TRL metrics (the steps before a resume
/// included: they travel in the checkpoints), and validation metrics.
/// </summary>
internal static class DpoCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Hugging Face llama / mistral / qwen2 checkpoint folder.", Required = true };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "PEFT adapter to start from (e.g. the SFT result); its settings replace the --lora-* options." };
        var train = new Option<FileInfo>("--train") { Description = "Training CSV/TSV with a header row.", Required = true };
        var valid = new Option<FileInfo?>("--valid") { Description = "Validation CSV/TSV: DPO loss, rewards and accuracy each epoch." };
        var promptColumn = new Option<string>("--prompt-column") { Description = "Prompt column name.", Required = true };
        var chosenColumn = new Option<string>("--chosen-column") { Description = "Preferred completion column name.", Required = true };
        var rejectedColumn = new Option<string>("--rejected-column") { Description = "Dispreferred completion column name.", Required = true };
        var beta = new Option<double>("--beta") { Description = "β of the implicit reward; higher stays closer to the reference. (0, 100].", DefaultValueFactory = _ => 0.1 };
        var labelSmoothing = new Option<double>("--label-smoothing") { Description = "cDPO: assumed probability that a preference is flipped. [0, 0.5)." };
        var precompute = new Option<bool>("--precompute-reference") { Description = "Compute the reference log-probs once before training (TRL precompute_ref_log_probs)." };
        var lora = new LoraArguments("Store the frozen base weights in 4-bit NF4 (QLoRA); fresh adapters only.");
        var checkpoints = new CheckpointArguments();
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 1 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 5e-5 };
        var batch = new Option<int>("--batch-size") { Description = "Preference pairs per step.", DefaultValueFactory = _ => 8 };
        var maxLength = new Option<int>("--max-length") { Description = "Longest prompt + completion in tokens.", DefaultValueFactory = _ => 512 };
        var gradientCheckpointing = new Option<bool>("--gradient-checkpointing") { Description = "Activation checkpointing per decoder layer: recompute each layer in the backward instead of keeping its activations (same gradients, less memory, about one more forward)." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu" };
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder for metrics.json and adapter/.", Required = true };
        var command = new Command("dpo", "DPO preference alignment of a decoder LLM with LoRA / QLoRA; writes OUTPUT/adapter (PEFT) and OUTPUT/metrics.json (TRL metric names).")
        {
            model, adapter, train, valid, promptColumn, chosenColumn, rejectedColumn, beta, labelSmoothing, precompute,
            epochs, lr, batch, maxLength, gradientCheckpointing, seed, device, output,
        };
        foreach (var option in lora.All) command.Options.Add(option);
        foreach (var option in checkpoints.All) command.Options.Add(option);
        command.SetAction(r => PreflightGate.Guard(r, "dpo", () => Run(new Args(
            r.GetValue(model)!, r.GetValue(adapter), r.GetValue(train)!, r.GetValue(valid), r.GetValue(promptColumn)!, r.GetValue(chosenColumn)!,
            r.GetValue(rejectedColumn)!, r.GetValue(beta), r.GetValue(labelSmoothing), r.GetValue(precompute), lora.Settings(r),
            r.GetValue(epochs), r.GetValue(lr), r.GetValue(batch),
            r.GetValue(maxLength), r.GetValue(gradientCheckpointing), r.GetValue(seed), r.GetValue(device)!, r.GetValue(output)!, checkpoints.Parse(r)))));
        return command;
    }

    private sealed record Args(DirectoryInfo Model, DirectoryInfo? Adapter, FileInfo Train, FileInfo? Valid, string PromptColumn, string ChosenColumn,
        string RejectedColumn, double Beta, double LabelSmoothing, bool PrecomputeReference, LoraSettings Lora,
        int Epochs, double Lr, int BatchSize, int MaxLength, bool GradientCheckpointing, int Seed, string Device, DirectoryInfo Output, CheckpointArguments.Settings Checkpoints)
    {
        public string[] Columns => [PromptColumn, ChosenColumn, RejectedColumn];
    }

    /// <summary>Option names for the option fields whose validation messages name them.</summary>
    private static readonly Dictionary<string, string> OptionOfField = new(StringComparer.Ordinal)
    {
        ["AdapterPath"] = "--adapter", ["PromptColumnName"] = "--prompt-column", ["ChosenColumnName"] = "--chosen-column",
        ["RejectedColumnName"] = "--rejected-column", ["Beta"] = "--beta", ["LabelSmoothing"] = "--label-smoothing",
        ["Epochs"] = "--epochs", ["LearningRate"] = "--lr", ["BatchSize"] = "--batch-size", ["MaxLength"] = "--max-length", ["Device"] = "--device",
    };

    private static int Run(Args a)
    {
        try
        {
            using var bar = Terminal.TrainingProgressView.ForConsole();
            var options = BuildOptions(a, bar);
            var ml = new MLContext(seed: a.Seed);
            CheckpointArguments.ShowTrainingNotices(ml);
            var train = ReadTable(a.Train, "--train", a);
            var valid = a.Valid is null ? null : ReadTable(a.Valid, "--valid", a);

            using var fitted = new DpoFineTuneEstimator(ml, options, valid?.ToDataView(ml, a.Columns)).Fit(train.ToDataView(ml, a.Columns));
            bar.Dispose();   // ends the live display before the results are printed
            var report = fitted.TrainingReport!;
            var adapterDir = Path.Combine(a.Output.FullName, "adapter");
            a.Output.Create();
            fitted.SaveAdapter(adapterDir);

            var steps = fitted.DpoHistory.Where(p => !p.IsValidation).ToList();
            var validations = fitted.DpoHistory.Where(p => p.IsValidation).ToList();
            var metrics = Metrics(a, report, steps, validations, train.RowCount, adapterDir);
            var metricsPath = Path.Combine(a.Output.FullName, "metrics.json");
            File.WriteAllText(metricsPath, JsonSerializer.Serialize(metrics, new JsonSerializerOptions { WriteIndented = true }));
            PrintSummary(report, steps, validations);
            Console.WriteLine($"metrics: {metricsPath}, adapter: {adapterDir}");
            return 0;
        }
        catch (ArgumentException e) when (e.ParamName is { } field && (OptionOfField.TryGetValue(field, out var option) || LoraArguments.OptionOfField.TryGetValue(field, out option)))
        {
            return CliErrors.Report(new InvalidDataException($"{option}: {CliErrors.Describe(e)}"));
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }

    private static DpoFineTuneOptions BuildOptions(Args a, IProgress<TrainingProgress> bar)
    {
        if (a.Adapter is { Exists: false }) throw new DirectoryNotFoundException($"--adapter: folder '{a.Adapter.FullName}' does not exist.");
        if (a.Adapter is not null && a.Lora.QuantizeBase)
            throw new ArgumentException("--qlora applies to fresh adapters only; with --adapter the base model is loaded in full precision. Drop one of them.");
        var options = new DpoFineTuneOptions
        {
            Model = CausalLmArguments.Name(a.Model),
            AdapterPath = a.Adapter?.FullName,
            PromptColumnName = a.PromptColumn,
            ChosenColumnName = a.ChosenColumn,
            RejectedColumnName = a.RejectedColumn,
            Beta = a.Beta,
            LabelSmoothing = a.LabelSmoothing,
            PrecomputeReferenceLogProbs = a.PrecomputeReference,
            Lora = a.Lora,
            Epochs = a.Epochs,
            LearningRate = a.Lr,
            BatchSize = a.BatchSize,
            Data = new SftDataOptions { MaxLength = a.MaxLength },
            GradientCheckpointing = a.GradientCheckpointing,
            Seed = a.Seed,
            Device = a.Device,
            InferenceBatchSize = Math.Clamp(a.BatchSize, 1, 256),
            Progress = bar,
            RunFolder = Config.CliRunFolder.For(a.Output),
        };
        options.Validate();
        return a.Checkpoints.Apply(options);
    }

    /// <summary>A CSV/TSV with data rows and the three columns; a missing column names the option, the file, the column and the columns present.</summary>
    private static DelimitedTable ReadTable(FileInfo file, string option, Args a)
    {
        if (!file.Exists) throw new FileNotFoundException($"{option}: file '{file.FullName}' does not exist.", file.FullName);
        var table = DelimitedTextReader.Read(file.FullName);
        foreach (var (column, columnOption) in new[] { (a.PromptColumn, "--prompt-column"), (a.ChosenColumn, "--chosen-column"), (a.RejectedColumn, "--rejected-column") })
        {
            try
            {
                _ = table.ColumnIndex(column);
            }
            catch (KeyNotFoundException e)
            {
                throw new KeyNotFoundException($"{columnOption}: {e.Message}", e);
            }
        }
        if (table.RowCount == 0) throw new InvalidDataException($"{file.FullName}: the file has a header but no data rows.");
        return table;
    }

    private static Dictionary<string, object?> Metrics(Args a, TrainingReport report, List<DpoProgress> steps, List<DpoProgress> validations,
        int trainRows, string adapterDir)
    {
        var metrics = new Dictionary<string, object?>();
        if (steps.Count > 0)
        {
            foreach (var (name, value) in steps[^1].Metrics.ToTrlNames()) metrics[name] = value;
        }
        if (validations.Count > 0)
        {
            foreach (var (name, value) in validations[^1].Metrics.ToTrlNames()) metrics["eval_" + name] = value;
        }
        metrics["train_seconds"] = report.TrainSeconds;
        metrics["train_tokens_per_second"] = report.TokensPerSecond;
        metrics["peak_rss_bytes"] = FineTune.MLNet.Planning.MachineMemory.PeakBytes();
        metrics["train_rows"] = trainRows;
        metrics["epochs_run"] = report.State.History.Count;
        metrics["optimizer_steps"] = report.State.GlobalStep;
        metrics["beta"] = a.Beta;
        metrics["label_smoothing"] = a.LabelSmoothing;
        metrics["history"] = steps.Select(HistoryEntry).ToList();
        if (validations.Count > 0) metrics["validation_history"] = validations.Select(HistoryEntry).ToList();
        metrics["adapter_dir"] = adapterDir;
        return metrics;
    }

    /// <summary>One step's (or validation pass's) entry: epoch, step and every TRL metric (loss, rewards/*, logps/*).</summary>
    private static Dictionary<string, object> HistoryEntry(DpoProgress p)
    {
        var entry = new Dictionary<string, object> { ["epoch"] = p.Epoch + 1, ["step"] = p.Step };
        foreach (var (name, value) in p.Metrics.ToTrlNames()) entry[name] = value;
        return entry;
    }

    private static void PrintSummary(TrainingReport report, List<DpoProgress> steps, List<DpoProgress> validations)
    {
        Console.WriteLine($"trained {report.TrainSeconds:F1}s, {report.TokensPerSecond:F0} tokens/s");
        if (steps.Count > 0) Console.WriteLine($"final step: {steps[^1].Metrics}");
        if (validations.Count > 0) Console.WriteLine($"validation: {validations[^1].Metrics}");
    }
}
