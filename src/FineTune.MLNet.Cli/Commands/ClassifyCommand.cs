using System.CommandLine;
using System.Text.Json;
using FineTune.MLNet.Data;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Metrics;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Transformers;
using FineTune.MLNet.ZeroShot;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Cli.Commands;

/// <summary><c>finetune classify</c>: fine-tune a text classifier on CSV/TSV files, evaluate it against the zero-shot baseline.</summary>
internal static class ClassifyCommand
{
    public static Command Create()
    {
        var train = new Option<FileInfo>("--train") { Description = "Training CSV/TSV with a header row.", Required = true };
        var test = new Option<FileInfo>("--test") { Description = "Test CSV/TSV.", Required = true };
        var valid = new Option<FileInfo?>("--valid") { Description = "Validation CSV/TSV (evaluated each epoch, early stopping)." };
        var textColumn = new Option<string>("--text-column") { Description = "Text column name.", Required = true };
        var labelColumn = new Option<string>("--label-column") { Description = "Label column name.", Required = true };
        var secondTextColumn = new Option<string?>("--second-text-column") { Description = "Sentence pairs: the column holding the second text ([CLS] text [SEP] second [SEP], as BERT's pair tasks)." };
        var model = new Option<string>("--model") { Description = "minilm (bundled) or a Hugging Face BERT/DistilBERT folder.", DefaultValueFactory = _ => "minilm" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 3 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 5e-5 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 16 };
        var maxLength = new Option<int>("--max-length") { DefaultValueFactory = _ => 128 };
        var loraRank = new Option<int?>("--lora-rank") { Description = "LoRA rank on the encoder (query, value); full fine-tuning when absent." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var patience = new Option<int?>("--early-stopping") { Description = "Patience in epochs (needs --valid)." };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu" };
        var exportOnnx = new Option<bool>("--export-onnx") { Description = "Also write OUTPUT/model.onnx (opset 17; logits and probabilities) for ONNX Runtime serving." };
        var balance = new Option<bool>("--balance-classes") { Description = "Weight the loss by inverse class frequency (imbalanced data)." };
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder for metrics.json and the model.", Required = true };
        var checkpoints = new CheckpointArguments();
        var command = new Command("classify", "Fine-tune a text classifier; writes OUTPUT/metrics.json and OUTPUT/model.")
        {
            train, test, valid, textColumn, secondTextColumn, labelColumn, model, epochs, lr, batch, maxLength, loraRank, seed, patience, device, output, balance, exportOnnx,
        };
        foreach (var option in checkpoints.All) command.Options.Add(option);
        command.SetAction(r => PreflightGate.Guard(r, "classify", () => Run(new Args(
            r.GetValue(train)!, r.GetValue(test)!, r.GetValue(valid), r.GetValue(textColumn)!, r.GetValue(secondTextColumn), r.GetValue(labelColumn)!,
            r.GetValue(model)!, r.GetValue(epochs), r.GetValue(lr), r.GetValue(batch), r.GetValue(maxLength), r.GetValue(loraRank),
            r.GetValue(seed), r.GetValue(patience), r.GetValue(device)!, r.GetValue(output)!, r.GetValue(balance), r.GetValue(exportOnnx), checkpoints.Parse(r)))));
        return command;
    }

    private sealed record Args(FileInfo Train, FileInfo Test, FileInfo? Valid, string TextColumn, string? SecondTextColumn, string LabelColumn, string Model,
        int Epochs, double Lr, int BatchSize, int MaxLength, int? LoraRank, int Seed, int? Patience, string Device, DirectoryInfo Output, bool BalanceClasses, bool ExportOnnx,
        CheckpointArguments.Settings Checkpoints);

    private static int Run(Args a)
    {
        try
        {
            var ml = new MLContext(seed: a.Seed);
            CheckpointArguments.ShowTrainingNotices(ml);
            a.Checkpoints.CheckValues();
            // All three files are read and checked before any model is loaded: rows, columns, empty texts, labels unseen in training.
            DelimitedTable Read(FileInfo f, string option) =>
                f.Exists ? DelimitedTextReader.Read(f.FullName) : throw new FileNotFoundException($"{option}: file '{f.FullName}' does not exist.", f.FullName);
            var trainTable = Read(a.Train, "--train");
            var validTable = a.Valid is null ? null : Read(a.Valid, "--valid");
            var testTable = Read(a.Test, "--test");
            if (a.SecondTextColumn is not null && (a.SecondTextColumn == a.TextColumn || a.SecondTextColumn == a.LabelColumn))
                throw new ArgumentException($"--second-text-column: '{a.SecondTextColumn}' is already the --text-column or --label-column; name the column holding the second text.");
            ClassificationTables.Check(trainTable, validTable is null ? [testTable] : [validTable, testTable], a.TextColumn, a.LabelColumn, a.SecondTextColumn);
            string[] columns = a.SecondTextColumn is null ? [a.TextColumn, a.LabelColumn] : [a.TextColumn, a.SecondTextColumn, a.LabelColumn];
            IDataView Load(DelimitedTable t) => t.ToDataView(ml, columns);
            var train = Load(trainTable);
            var test = Load(testTable);
            var keyMap = ml.Transforms.Conversion.MapValueToKey(a.LabelColumn).Fit(train);
            using var progress = Terminal.TrainingProgressView.ForConsole();
            var options = a.Checkpoints.Apply(new TextClassificationFineTuneOptions
            {
                TextColumnName = a.TextColumn, SecondTextColumnName = a.SecondTextColumn, LabelColumnName = a.LabelColumn, Model = a.Model, Epochs = a.Epochs,
                LearningRate = a.Lr, BatchSize = a.BatchSize, MaxLength = a.MaxLength, Seed = a.Seed, Device = a.Device,
                EarlyStoppingPatience = a.Patience, BalanceClasses = a.BalanceClasses,
                Lora = a.LoraRank is { } r ? new LoraSettings { Rank = r, Alpha = 2 * r } : null,
                Progress = progress,
                RunFolder = Config.CliRunFolder.For(a.Output),
            });
            var valid = validTable is null ? null : keyMap.Transform(Load(validTable));
            var pipeline = ml.Transforms.Conversion.MapValueToKey(a.LabelColumn)
                .Append(ml.MulticlassClassification.Trainers.FineTuneTextClassifier(options, valid));
            var fitted = pipeline.Fit(train);
            progress.Dispose();   // ends the live display before the results are printed
            var classifier = fitted.LastTransformer;
            var labels = classifier.Classifier.Labels;

            var scored = fitted.Transform(test);
            var truth = scored.GetColumn<uint>(a.LabelColumn).Select(k => (int)k - 1).ToArray();
            if (truth.Any(t => t < 0))
                throw new InvalidDataException($"{a.Test.Name}: column '{a.LabelColumn}' has labels unseen in training (known: {string.Join(", ", labels)}).");
            var predicted = scored.GetColumn<uint>("PredictedLabel").Select(k => (int)k - 1).ToArray();
            var tuned = ClassificationMetrics.Compute(truth, predicted, labels.Count);
            var mlnet = ml.MulticlassClassification.Evaluate(scored, a.LabelColumn);
            var baseline = Baseline(a, labels, trainTable, test, truth);

            a.Output.Create();
            var modelDir = Path.Combine(a.Output.FullName, "model");
            FineTunePipeline.Save(ml, fitted, train.Schema, modelDir);
            string? onnxPath = null;
            if (a.ExportOnnx)
            {
                onnxPath = Path.Combine(a.Output.FullName, "model.onnx");
                classifier.ExportOnnx(onnxPath);
            }
            var report = classifier.TrainingReport!;
            var metrics = new Dictionary<string, object?>
            {
                ["accuracy"] = tuned.Accuracy,
                ["macro_f1"] = tuned.MacroF1,
                ["baseline"] = baseline.Name,
                ["zero_shot_accuracy"] = baseline.Name == "zero_shot" ? baseline.Metrics.Accuracy : null,
                ["zero_shot_macro_f1"] = baseline.Name == "zero_shot" ? baseline.Metrics.MacroF1 : null,
                ["majority_class_accuracy"] = baseline.Name == "majority_class" ? baseline.Metrics.Accuracy : null,
                ["majority_class_macro_f1"] = baseline.Name == "majority_class" ? baseline.Metrics.MacroF1 : null,
                ["mlnet_micro_accuracy"] = mlnet.MicroAccuracy,
                ["mlnet_macro_accuracy"] = mlnet.MacroAccuracy,
                ["log_loss"] = mlnet.LogLoss,
                ["labels"] = labels,
                ["per_class_f1"] = labels.Select((l, i) => (l, tuned.PerClassF1[i])).ToDictionary(x => x.l, x => x.Item2),
                ["confusion_matrix"] = Enumerable.Range(0, labels.Count).Select(i => Enumerable.Range(0, labels.Count).Select(j => tuned.ConfusionMatrix[i, j]).ToArray()).ToArray(),
                ["train_seconds"] = report.TrainSeconds,
                ["train_tokens_per_second"] = report.TokensPerSecond,
                ["peak_rss_bytes"] = FineTune.MLNet.Planning.MachineMemory.PeakBytes(),
                ["epochs_run"] = report.State.History.Count,
                ["history"] = report.State.History,
                ["test_rows"] = truth.Length,
                ["second_text_column"] = a.SecondTextColumn,
                ["model_dir"] = modelDir,
                ["onnx_model"] = onnxPath,
            };
            File.WriteAllText(Path.Combine(a.Output.FullName, "metrics.json"), JsonSerializer.Serialize(metrics, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"accuracy {tuned.Accuracy:P2}  macro-F1 {tuned.MacroF1:F4}  ({baseline.Name.Replace('_', '-')}: accuracy {baseline.Metrics.Accuracy:P2}, macro-F1 {baseline.Metrics.MacroF1:F4})");
            Console.WriteLine(tuned.FormatConfusionMatrix(labels));
            Console.WriteLine($"metrics: {Path.Combine(a.Output.FullName, "metrics.json")}, model: {modelDir}");
            return 0;
        }
        catch (TrainingHaltedException e)
        {
            return CliErrors.Report(e);
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }

    /// <summary>
    /// What the fine-tuned model is compared with: the untuned encoder's zero-shot skill (embedding similarity to label
    /// descriptions) for single texts; for sentence pairs, where label descriptions do not apply, always predicting the
    /// most frequent training label.
    /// </summary>
    private static (string Name, ClassificationMetrics Metrics) Baseline(Args a, IReadOnlyList<string> labels, DelimitedTable train, IDataView test, int[] truth)
    {
        if (a.SecondTextColumn is null)
            return ("zero_shot", ZeroShotBaseline.Evaluate(a.Model, labels, test.GetColumn<string>(a.TextColumn).ToArray(), truth, maxLength: a.MaxLength));
        var majority = train.GetColumn(a.LabelColumn).GroupBy(l => l, StringComparer.Ordinal).OrderByDescending(g => g.Count()).First().Key;
        int predicted = labels.ToList().IndexOf(majority);
        return ("majority_class", ClassificationMetrics.Compute(truth, [.. truth.Select(_ => predicted)], labels.Count));
    }
}
