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
/// <c>{"text":..., "label":..., "probabilities":[...]}</c>. A sentence-pair classifier's .zip (its input has a
/// <c>SecondText</c> column) takes one <c>--second-text</c> per <c>--text</c>, paired by position, and prints
/// <c>second_text</c> too. With <c>--test FILE --text-column C --label-column L</c> (and <c>--second-text-column C2</c>
/// for pairs) it scores the table instead and prints <c>{"accuracy", "macro_f1", "rows", "rows_per_second"}</c>.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The serving .zip from `finetune export --format mlnet`.", Required = true };
        var text = new Option<string[]>("--text") { Description = "A text to classify (repeatable)." };
        var secondText = new Option<string[]>("--second-text") { Description = "Sentence-pair models: the second text of each --text, in the same order (repeatable)." };
        var test = new Option<FileInfo?>("--test") { Description = "CSV/TSV to evaluate (with --text-column and --label-column)." };
        var textColumn = new Option<string>("--text-column") { DefaultValueFactory = _ => "text" };
        var secondTextColumn = new Option<string?>("--second-text-column") { Description = "Sentence-pair models: the --test column holding the second text." };
        var labelColumn = new Option<string>("--label-column") { DefaultValueFactory = _ => "label" };
        var gpu = new Option<int?>("--gpu-device") { Description = "CUDA device id (MLContext.GpuDeviceId), falling back to CPU; CPU when absent." };
        var command = new Command("predict", "Classify texts with an ML.NET serving .zip (mlContext.Model.Load + a prediction engine).")
            { model, text, secondText, test, textColumn, secondTextColumn, labelColumn, gpu };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(text) ?? [], r.GetValue(secondText) ?? [], r.GetValue(test),
            r.GetValue(textColumn)!, r.GetValue(secondTextColumn), r.GetValue(labelColumn)!, r.GetValue(gpu)));
        return command;
    }

    private static int Run(FileInfo model, string[] texts, string[] secondTexts, FileInfo? test, string textColumn, string? secondTextColumn,
        string labelColumn, int? gpuDevice)
    {
        try
        {
            if (texts.Length == 0 && test is null) throw new ArgumentException("--text or --test: give texts to classify or a table to evaluate.");
            var mlContext = new MLContext { GpuDeviceId = gpuDevice, FallbackToCpu = true };
            var pipeline = ClassifierServingPipeline.Load(mlContext, model.FullName);
            CheckPairInputs(pipeline.IsSentencePair, texts, secondTexts, test, secondTextColumn);
            var (classify, engine) = Classifier(pipeline);
            using var owned = engine;
            for (var i = 0; i < texts.Length; i++)
            {
                var p = classify(texts[i], pipeline.IsSentencePair ? secondTexts[i] : null);
                Console.WriteLine(pipeline.IsSentencePair
                    ? JsonSerializer.Serialize(new { text = texts[i], second_text = secondTexts[i], label = p.PredictedLabel, probabilities = p.Score })
                    : JsonSerializer.Serialize(new { text = texts[i], label = p.PredictedLabel, probabilities = p.Score }));
            }
            if (test is not null) Console.WriteLine(JsonSerializer.Serialize(Evaluate(classify, test.FullName, textColumn, secondTextColumn, labelColumn)));
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }

    /// <summary>A pair model needs a second text for every text; a single-text model must not be given one.</summary>
    private static void CheckPairInputs(bool isPair, string[] texts, string[] secondTexts, FileInfo? test, string? secondTextColumn)
    {
        if (isPair)
        {
            if (texts.Length > 0 && secondTexts.Length != texts.Length)
                throw new ArgumentException($"--second-text: this model is a sentence-pair classifier (its input has Text and SecondText); " +
                    $"expected one --second-text per --text, got {secondTexts.Length} for {texts.Length} --text.");
            if (texts.Length == 0 && secondTexts.Length > 0)
                throw new ArgumentException($"--second-text: got {secondTexts.Length} --second-text but no --text to pair them with.");
            if (test is not null && secondTextColumn is null)
                throw new ArgumentException("--second-text-column: this model is a sentence-pair classifier (its input has Text and SecondText); " +
                    "name the --test column holding the second text.");
            return;
        }
        if (secondTexts.Length > 0)
            throw new ArgumentException("--second-text: this model classifies single texts (its input has only Text, no SecondText); drop --second-text.");
        if (secondTextColumn is not null)
            throw new ArgumentException("--second-text-column: this model classifies single texts (its input has only Text, no SecondText); drop --second-text-column.");
    }

    /// <summary>One prediction engine, over single texts or pairs as the model reads; the second text is null for single-text models.</summary>
    private static (Func<string, string?, ServingPrediction> Classify, IDisposable Engine) Classifier(ClassifierServingPipeline pipeline)
    {
        if (pipeline.IsSentencePair)
        {
            var pairs = pipeline.CreatePairPredictionEngine();
            return ((text, second) => pairs.Predict(new ServingPairInput { Text = text, SecondText = second! }), pairs);
        }
        var singles = pipeline.CreatePredictionEngine();
        return ((text, _) => singles.Predict(new ServingInput { Text = text }), singles);
    }

    private static object Evaluate(Func<string, string?, ServingPrediction> classify, string path, string textColumn, string? secondTextColumn, string labelColumn)
    {
        var table = DelimitedTextReader.Read(path);
        var texts = table.GetColumn(textColumn);
        var seconds = secondTextColumn is null ? null : table.GetColumn(secondTextColumn);
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
            predicted.Add(Index(classify(texts[i], seconds?[i]).PredictedLabel));
        }
        var elapsed = clock.Elapsed.TotalSeconds;
        var metrics = ClassificationMetrics.Compute(truth, predicted, names.Count);
        return new { accuracy = metrics.Accuracy, macro_f1 = metrics.MacroF1, rows = texts.Length, rows_per_second = texts.Length / elapsed };
    }
}
