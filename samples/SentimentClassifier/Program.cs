// Product-review sentiment (Positive / Negative / Neutral): fine-tune the bundled all-MiniLM-L6-v2 encoder inside an
// ML.NET pipeline, compare with the untuned model's zero-shot skill, save, reload and predict.
//
//   dotnet run --project samples/SentimentClassifier -c Release [-- --train F --valid F --test F --epochs N --lora-rank R --output DIR]
using FineTune.MLNet;
using FineTune.MLNet.Data;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Metrics;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Transformers;
using FineTune.MLNet.ZeroShot;
using Microsoft.ML;
using Microsoft.ML.Data;

var arg = ParseArgs(args);
var dataDir = Path.Combine(AppContext.BaseDirectory, "data");
var trainPath = arg.GetValueOrDefault("train", Path.Combine(dataDir, "reviews.train.csv"));
var validPath = arg.GetValueOrDefault("valid", Path.Combine(dataDir, "reviews.valid.csv"));
var testPath = arg.GetValueOrDefault("test", Path.Combine(dataDir, "reviews.test.csv"));
var textColumn = arg.GetValueOrDefault("text-column", "text");
var labelColumn = arg.GetValueOrDefault("label-column", "label");
var output = arg.GetValueOrDefault("output", Path.Combine(Path.GetTempPath(), "sentiment-model"));

var ml = new MLContext(seed: 1);
IDataView Load(string path) => DelimitedTextReader.Read(path).ToDataView(ml, textColumn, labelColumn);
var train = Load(trainPath);
var valid = Load(validPath);
var test = Load(testPath);

var options = new TextClassificationFineTuneOptions
{
    TextColumnName = textColumn,
    LabelColumnName = labelColumn,
    Model = "minilm",
    Epochs = int.Parse(arg.GetValueOrDefault("epochs", "6")),
    LearningRate = double.Parse(arg.GetValueOrDefault("lr", "8e-5"), System.Globalization.CultureInfo.InvariantCulture),
    BatchSize = 16,
    MaxLength = 128,
    EarlyStoppingPatience = 2,
    Lora = arg.TryGetValue("lora-rank", out var r) ? new LoraSettings { Rank = int.Parse(r), Alpha = 2 * int.Parse(r) } : null,
    Progress = new Progress<FineTune.MLNet.Training.TrainingProgress>(p =>
    {
        if (p.IsValidation) Console.WriteLine($"  epoch {p.Epoch + 1}: validation loss {p.ValidationLoss:F3}, accuracy {p.ValidationAccuracy:P1}, macro-F1 {p.ValidationMacroF1:F3}");
    }),
};

// The pipeline: label strings -> keys, then the fine-tuning estimator. The validation set must carry the same label
// keys as training, so the key mapping fitted on train is applied to it.
var keyMap = ml.Transforms.Conversion.MapValueToKey(labelColumn).Fit(train);
var pipeline = ml.Transforms.Conversion.MapValueToKey(labelColumn)
    .Append(ml.MulticlassClassification.Trainers.FineTuneTextClassifier(options, validationSet: keyMap.Transform(valid)));

Console.WriteLine($"Fine-tuning all-MiniLM-L6-v2 on {trainPath} ({options.Epochs} epochs max, {(options.Lora is null ? "full fine-tuning" : $"LoRA r={options.Lora.Rank}")})...");
var model = pipeline.Fit(train);
var classifier = model.LastTransformer;
Console.WriteLine($"Trained in {classifier.TrainingReport!.TrainSeconds:F0}s ({classifier.TrainingReport.TokensPerSecond:F0} tokens/s).");

// Evaluate with ML.NET's own evaluator, and the per-class view.
var scored = model.Transform(test);
var mlnetMetrics = ml.MulticlassClassification.Evaluate(scored, labelColumn);
var labels = classifier.Classifier.Labels;
var truth = scored.GetColumn<uint>(labelColumn).Select(k => (int)k - 1).ToArray();
var predicted = scored.GetColumn<uint>("PredictedLabel").Select(k => (int)k - 1).ToArray();
var tuned = ClassificationMetrics.Compute(truth, predicted, labels.Count);

var testTexts = test.GetColumn<string>(textColumn).ToArray();
var zeroShot = ZeroShotBaseline.Evaluate("minilm", labels, testTexts, truth);

Console.WriteLine();
Console.WriteLine($"{"",-22}{"accuracy",10}{"macro-F1",10}");
Console.WriteLine($"{"zero-shot (untuned)",-22}{zeroShot.Accuracy,10:P1}{zeroShot.MacroF1,10:F3}");
Console.WriteLine($"{"fine-tuned",-22}{tuned.Accuracy,10:P1}{tuned.MacroF1,10:F3}");
Console.WriteLine($"ML.NET evaluator: micro-accuracy {mlnetMetrics.MicroAccuracy:P1}, macro-accuracy {mlnetMetrics.MacroAccuracy:P1}, log-loss {mlnetMetrics.LogLoss:F3}");
Console.WriteLine();
Console.WriteLine("Per-class F1 (fine-tuned): " + string.Join(", ", labels.Select((l, i) => $"{l} {tuned.PerClassF1[i]:F3}")));
Console.WriteLine("Confusion matrix (fine-tuned):");
Console.Write(tuned.FormatConfusionMatrix(labels));

// Save the whole pipeline, reload it, and predict new reviews.
FineTunePipeline.Save(ml, model, train.Schema, output);
var reloaded = FineTunePipeline.Load(ml, output);
Console.WriteLine($"\nSaved to {output} and reloaded. New reviews:");
string[] fresh =
[
    "Battery lasts two days and the screen is gorgeous. Best phone I've owned.",
    "The zipper broke the first time I used the bag. Sending it back.",
    "It's a kettle. It boils water. Nothing more to say.",
];
var freshView = ml.Data.LoadFromEnumerable(fresh.Select(t => new Review { text = t, label = labels[0] }));
var freshScored = reloaded.Transform(freshView);
var keyToValue = ml.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel").Fit(freshScored).Transform(freshScored);
foreach (var (text, label) in fresh.Zip(keyToValue.GetColumn<string>("PredictedText")))
{
    Console.WriteLine($"  {label,-9} {text}");
}

static Dictionary<string, string> ParseArgs(string[] args)
{
    var d = new Dictionary<string, string>();
    for (var i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--") || i + 1 >= args.Length) throw new ArgumentException($"Expected '--name value' pairs, got '{args[i]}'.");
        d[args[i][2..]] = args[++i];
    }
    return d;
}

internal sealed class Review
{
    public string text { get; set; } = "";
    public string label { get; set; } = "";
}
