using System.CommandLine;
using System.Text.Json;
using FineTune.MLNet.Data;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Evaluation;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune sft</c>: LoRA / QLoRA supervised fine-tuning of a llama-family checkpoint on a CSV/TSV of prompts and
/// responses; saves the PEFT adapter and writes metrics (validation perplexity, test EM / F1 / ROUGE-L against the base
/// model, general-text perplexity before and after).
/// </summary>
internal static class SftCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Hugging Face llama / mistral / qwen2 checkpoint folder.", Required = true };
        var train = new Option<FileInfo>("--train") { Description = "Training CSV/TSV with a header row.", Required = true };
        var valid = new Option<FileInfo?>("--valid") { Description = "Validation CSV/TSV: loss each epoch, perplexity of the final model." };
        var test = new Option<FileInfo?>("--test") { Description = "Test CSV/TSV: generated answers scored (EM, token F1, ROUGE-L), tuned and base model." };
        var general = new Option<FileInfo?>("--general-text") { Description = "Plain text, one passage per line: perplexity before and after tuning (forgetting check)." };
        var promptColumn = new Option<string>("--prompt-column") { Description = "Prompt column name.", Required = true };
        var responseColumn = new Option<string>("--response-column") { Description = "Response column name.", Required = true };
        var lora = new LoraArguments("Store the frozen base weights in 4-bit NF4 (QLoRA).");
        var checkpoints = new CheckpointArguments();
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 3 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 2e-4 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 8 };
        var maxLength = new Option<int>("--max-length") { Description = "Longest training sequence in tokens.", DefaultValueFactory = _ => 512 };
        var packing = new Option<bool>("--packing") { Description = "Pack short examples into rows of --max-length." };
        var gradientCheckpointing = new Option<bool>("--gradient-checkpointing") { Description = "Activation checkpointing per decoder layer: recompute each layer in the backward instead of keeping its activations (same gradients, less memory, about one more forward)." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Longest generated answer for --test.", DefaultValueFactory = _ => 64 };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu" };
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder for metrics.json, predictions.jsonl and adapter/.", Required = true };
        var command = new Command("sft", "LoRA / QLoRA supervised fine-tuning of a decoder LLM; writes OUTPUT/adapter (PEFT) and OUTPUT/metrics.json.")
        {
            model, train, valid, test, general, promptColumn, responseColumn, epochs, lr, batch,
            maxLength, packing, gradientCheckpointing, seed, maxNewTokens, device, output,
        };
        foreach (var option in lora.All) command.Options.Add(option);
        foreach (var option in checkpoints.All) command.Options.Add(option);
        command.SetAction(r => PreflightGate.Guard(r, "sft", () => Run(new Args(
            r.GetValue(model)!, r.GetValue(train)!, r.GetValue(valid), r.GetValue(test), r.GetValue(general), r.GetValue(promptColumn)!,
            r.GetValue(responseColumn)!, lora.Settings(r),
            r.GetValue(epochs), r.GetValue(lr), r.GetValue(batch), r.GetValue(maxLength), r.GetValue(packing), r.GetValue(gradientCheckpointing), r.GetValue(seed),
            r.GetValue(maxNewTokens), r.GetValue(device)!, r.GetValue(output)!, checkpoints.Parse(r)))));
        return command;
    }

    private sealed record Args(DirectoryInfo Model, FileInfo Train, FileInfo? Valid, FileInfo? Test, FileInfo? GeneralText, string PromptColumn,
        string ResponseColumn, LoraSettings Lora, int Epochs, double Lr, int BatchSize,
        int MaxLength, bool Packing, bool GradientCheckpointing, int Seed, int MaxNewTokens, string Device, DirectoryInfo Output, CheckpointArguments.Settings Checkpoints);

    /// <summary>Option names for the option fields whose validation messages name them.</summary>
    private static readonly Dictionary<string, string> OptionOfField = new(StringComparer.Ordinal)
    {
        ["Epochs"] = "--epochs", ["LearningRate"] = "--lr", ["BatchSize"] = "--batch-size", ["MaxLength"] = "--max-length",
        ["MaxNewTokens"] = "--max-new-tokens", ["Device"] = "--device",
    };

    private static int Run(Args a)
    {
        try
        {
            using var progress = Terminal.TrainingProgressView.ForConsole();
            var options = BuildOptions(a, progress);
            var ml = new MLContext(seed: a.Seed);
            CheckpointArguments.ShowTrainingNotices(ml);
            var train = ReadTable(a.Train, "--train", a);
            var valid = a.Valid is null ? null : ReadTable(a.Valid, "--valid", a);
            var test = a.Test is null ? null : Pairs(ReadTable(a.Test, "--test", a), a).Select(p => new QuestionAnswer(p.Prompt, p.Response)).ToList();
            var general = a.GeneralText is null ? null : ReadLines(a.GeneralText);

            var validView = valid?.ToDataView(ml, a.PromptColumn, a.ResponseColumn);
            using var fitted = new LoraFineTuneEstimator(ml, options, validView).Fit(train.ToDataView(ml, a.PromptColumn, a.ResponseColumn));
            progress.Dispose();   // ends the live display before evaluation and results
            var report = fitted.TrainingReport!;
            var adapterDir = Path.Combine(a.Output.FullName, "adapter");
            a.Output.Create();
            fitted.SaveAdapter(adapterDir);

            var evaluator = new SftEvaluator(fitted.Model, fitted.Tokenizer, new SftExampleBuilder(fitted.Tokenizer, options.Data), a.BatchSize);
            var tuned = evaluator.Evaluate(new SftEvaluationSets { PerplexityPairs = valid is null ? null : Pairs(valid, a), QuestionAnswers = test, GeneralText = general }, options.Generation);
            var baseline = test is null && general is null ? null
                : evaluator.Evaluate(new SftEvaluationSets { QuestionAnswers = test, GeneralText = general }, options.Generation, disableAdapters: true);

            var metrics = Metrics(report, tuned, baseline, train.RowCount, adapterDir);
            var metricsPath = Path.Combine(a.Output.FullName, "metrics.json");
            File.WriteAllText(metricsPath, JsonSerializer.Serialize(metrics, new JsonSerializerOptions { WriteIndented = true }));
            if (test is not null) WritePredictions(Path.Combine(a.Output.FullName, "predictions.jsonl"), test, tuned.Generation!, baseline!.Generation!);
            PrintSummary(tuned, baseline, report);
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

    private static LoraFineTuneOptions BuildOptions(Args a, IProgress<TrainingProgress> progress)
    {
        var options = new LoraFineTuneOptions
        {
            Model = CausalLmArguments.Name(a.Model),
            PromptColumnName = a.PromptColumn,
            ResponseColumnName = a.ResponseColumn,
            Lora = a.Lora,
            Epochs = a.Epochs,
            LearningRate = a.Lr,
            BatchSize = a.BatchSize,
            Data = new SftDataOptions { MaxLength = a.MaxLength },
            Packing = a.Packing,
            GradientCheckpointing = a.GradientCheckpointing,
            Seed = a.Seed,
            Device = a.Device,
            Generation = new GenerationOptions { MaxNewTokens = a.MaxNewTokens },
            InferenceBatchSize = Math.Min(a.BatchSize, 256),
            Progress = progress,
            RunFolder = Config.CliRunFolder.For(a.Output),
        };
        options.Validate();
        return a.Checkpoints.Apply(options);
    }

    /// <summary>A CSV/TSV with data rows and both columns; a missing column names the file, the column and the columns present.</summary>
    private static DelimitedTable ReadTable(FileInfo file, string option, Args a)
    {
        if (!file.Exists) throw new FileNotFoundException($"{option}: file '{file.FullName}' does not exist.", file.FullName);
        var table = DelimitedTextReader.Read(file.FullName);
        _ = table.ColumnIndex(a.PromptColumn);
        _ = table.ColumnIndex(a.ResponseColumn);
        if (table.RowCount == 0) throw new InvalidDataException($"{file.FullName}: the file has a header but no data rows.");
        return table;
    }

    private static List<(string Prompt, string Response)> Pairs(DelimitedTable table, Args a) =>
        table.GetColumn(a.PromptColumn).Zip(table.GetColumn(a.ResponseColumn)).ToList();

    private static List<string> ReadLines(FileInfo file)
    {
        if (!file.Exists) throw new FileNotFoundException($"--general-text: file '{file.FullName}' does not exist.", file.FullName);
        var lines = File.ReadAllLines(file.FullName).Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
        if (lines.Count == 0) throw new InvalidDataException($"--general-text: file '{file.FullName}' has no non-blank line.");
        return lines;
    }

    private static Dictionary<string, object?> Metrics(TrainingReport report, SftEvaluation tuned, SftEvaluation? baseline, int trainRows, string adapterDir)
    {
        var history = report.State.History;
        var metrics = new Dictionary<string, object?>
        {
            ["train_seconds"] = report.TrainSeconds,
            ["train_tokens_per_second"] = report.TokensPerSecond,
            ["peak_rss_bytes"] = FineTune.MLNet.Planning.MachineMemory.PeakBytes(),
            ["train_loss"] = history.Count > 0 ? history[^1].TrainLoss : null,
            ["train_rows"] = trainRows,
            ["epochs_run"] = history.Count,
            ["optimizer_steps"] = report.State.GlobalStep,
        };
        if (tuned.Perplexity is { } v)
        {
            metrics["validation_loss"] = v.MeanNll;
            metrics["validation_perplexity"] = v.Perplexity;
            metrics["validation_tokens"] = v.TokenCount;
        }
        if (tuned.Generation is { } g && baseline?.Generation is { } b)
        {
            metrics["exact_match"] = g.Scores.ExactMatch;
            metrics["token_f1"] = g.Scores.F1;
            metrics["rouge_l"] = g.Scores.RougeL;
            metrics["base_exact_match"] = b.Scores.ExactMatch;
            metrics["base_token_f1"] = b.Scores.F1;
            metrics["base_rouge_l"] = b.Scores.RougeL;
            metrics["test_rows"] = g.Scores.Count;
        }
        if (tuned.GeneralText is { } after && baseline?.GeneralText is { } before)
        {
            metrics["general_perplexity_before"] = before.Perplexity;
            metrics["general_perplexity_after"] = after.Perplexity;
            metrics["general_tokens"] = after.TokenCount;
        }
        metrics["history"] = history.Select(h => new { epoch = h.Epoch, train_loss = h.TrainLoss, validation_loss = h.ValidationLoss }).ToList();
        metrics["adapter_dir"] = adapterDir;
        return metrics;
    }

    private static void WritePredictions(string path, List<QuestionAnswer> test, GenerationEvaluation tuned, GenerationEvaluation baseline)
    {
        var lines = test.Select((q, i) => JsonSerializer.Serialize(new
        {
            prompt = q.Question, reference = q.Reference, prediction = tuned.Predictions[i], base_prediction = baseline.Predictions[i],
        }));
        File.WriteAllLines(path, lines);
    }

    private static void PrintSummary(SftEvaluation tuned, SftEvaluation? baseline, TrainingReport report)
    {
        var history = report.State.History;
        Console.WriteLine($"trained {report.TrainSeconds:F1}s, {report.TokensPerSecond:F0} tokens/s, final train loss {(history.Count > 0 ? history[^1].TrainLoss : double.NaN):F4}");
        if (tuned.Perplexity is { } v) Console.WriteLine($"validation perplexity {v.Perplexity:F4} ({v.TokenCount} tokens)");
        if (tuned.Generation is { } g && baseline?.Generation is { } b)
            Console.WriteLine($"test: exact match {g.Scores.ExactMatch:P1}, token F1 {g.Scores.F1:F4}, ROUGE-L {g.Scores.RougeL:F4} " +
                              $"(base: {b.Scores.ExactMatch:P1}, {b.Scores.F1:F4}, {b.Scores.RougeL:F4})");
        if (tuned.GeneralText is { } after && baseline?.GeneralText is { } before)
            Console.WriteLine($"general-text perplexity {before.Perplexity:F4} -> {after.Perplexity:F4}");
    }
}
