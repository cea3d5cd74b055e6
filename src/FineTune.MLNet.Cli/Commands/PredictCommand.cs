using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using FineTune.MLNet.Data;
using FineTune.MLNet.Metrics;
using FineTune.MLNet.Serving;
using Microsoft.ML;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune predict --model m.zip --text T [--text T2 ...]</c>: loads an ML.NET serving .zip (written by
/// <c>export --format mlnet</c>) with <c>mlContext.Model.Load</c> and prints one JSON line per text:
/// <c>{"text":..., "label":..., "probabilities":[...]}</c>. With <c>--test FILE --text-column C --label-column L</c>
/// it scores the table instead and prints <c>{"accuracy", "macro_f1", "rows", "rows_per_second"}</c>.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The serving .zip from `finetune export --format mlnet`.", Required = true };
        var text = new Option<string[]>("--text") { Description = "A text to classify (repeatable)." };
        var test = new Option<FileInfo?>("--test") { Description = "CSV/TSV to evaluate (with --text-column and --label-column)." };
        var textColumn = new Option<string>("--text-column") { DefaultValueFactory = _ => "text" };
        var labelColumn = new Option<string>("--label-column") { DefaultValueFactory = _ => "label" };
        var gpu = new Option<int?>("--gpu-device") { Description = "CUDA device id (MLContext.GpuDeviceId), falling back to CPU; CPU when absent." };
        var command = new Command("predict", "Classify texts with an ML.NET serving .zip (mlContext.Model.Load + a prediction engine).")
            { model, text, test, textColumn, labelColumn, gpu };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(text) ?? [], r.GetValue(test), r.GetValue(textColumn)!, r.GetValue(labelColumn)!, r.GetValue(gpu)));
        return command;
    }

    private static int Run(FileInfo model, string[] texts, FileInfo? test, string textColumn, string labelColumn, int? gpuDevice)
    {
        try
        {
            if (texts.Length == 0 && test is null) throw new ArgumentException("--text or --test: give texts to classify or a table to evaluate.");
            var mlContext = new MLContext { GpuDeviceId = gpuDevice, FallbackToCpu = true };
            var pipeline = ClassifierServingPipeline.Load(mlContext, model.FullName);
            using var engine = pipeline.CreatePredictionEngine();
            foreach (var t in texts)
            {
                var p = engine.Predict(new ServingInput { Text = t });
                Console.WriteLine(JsonSerializer.Serialize(new { text = t, label = p.PredictedLabel, probabilities = p.Score }));
            }
            if (test is not null) Console.WriteLine(JsonSerializer.Serialize(Evaluate(engine, test.FullName, textColumn, labelColumn)));
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }

    private static object Evaluate(PredictionEngine<ServingInput, ServingPrediction> engine, string path, string textColumn, string labelColumn)
    {
        var table = DelimitedTextReader.Read(path);
        var texts = table.GetColumn(textColumn);
        var labels = table.GetColumn(labelColumn);
        var names = new List<string>();
        int Index(string label)
        {
            var i = names.IndexOf(label);
            if (i < 0) { names.Add(label); i = names.Count - 1; }
            return i;
        }
        var truth = new List<int>();
        var predicted = new List<int>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < texts.Length; i++)
        {
            truth.Add(Index(labels[i]));
            predicted.Add(Index(engine.Predict(new ServingInput { Text = texts[i] }).PredictedLabel));
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var metrics = ClassificationMetrics.Compute(truth, predicted, names.Count);
        return new { accuracy = metrics.Accuracy, macro_f1 = metrics.MacroF1, rows = texts.Length, rows_per_second = texts.Length / seconds };
    }
}
