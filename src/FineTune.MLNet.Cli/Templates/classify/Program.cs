// {{Name}}: fine-tunes the bundled all-MiniLM-L6-v2 encoder to classify text with FineTune.MLNet inside an ML.NET
// pipeline, evaluates it with ML.NET's evaluator, saves the pipeline, reloads it and predicts with a PredictionEngine.
//
//   dotnet run -c Release -- [--train FILE] [--test FILE] [--epochs N] [--limit N] [--lr X] [--model minilm|DIR] [--output DIR]
//
// Data: CSV/TSV files with a header row and the columns Text and Label (see ModelInput.cs).
using FineTune.MLNet;
using FineTune.MLNet.Data;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using {{Namespace}};

var arguments = Arguments.Parse(args);
var dataDir = Path.Combine(AppContext.BaseDirectory, "data");
var trainPath = arguments.Get("train", Path.Combine(dataDir, "train.csv"));
var testPath = arguments.Get("test", Path.Combine(dataDir, "test.csv"));
var epochs = arguments.GetInt("epochs", 3);
var limit = arguments.GetInt("limit", int.MaxValue);          // rows of each file to use: --limit 32 for a quick trial
var learningRate = arguments.GetDouble("lr", 8e-5);
var modelName = arguments.Get("model", "minilm");             // bundled encoder, or a Hugging Face BERT/DistilBERT folder
var outputDir = arguments.Get("output", Path.Combine(Environment.CurrentDirectory, "model"));

var mlContext = new MLContext(seed: 1);

// 1. Load the data (a quote-aware CSV/TSV reader: fields may hold commas, quotes and line breaks).
IDataView Load(string path) =>
    mlContext.Data.TakeRows(DelimitedTextReader.Read(path).ToDataView(mlContext, "Text", "Label"), limit);
var train = Load(trainPath);
var test = Load(testPath);

// 2. The pipeline: label strings -> keys, the fine-tuning trainer, predicted keys -> label strings.
var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
    .Append(mlContext.MulticlassClassification.Trainers.FineTuneTextClassifier(
        labelColumnName: "Label", textColumnName: "Text", model: modelName,
        epochs: epochs, batchSize: 16, learningRate: learningRate, maxLength: 128))
    .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel"));

Console.WriteLine($"Fine-tuning {modelName} on {trainPath} ({epochs} epoch(s))...");
var model = pipeline.Fit(train);

// 3. Evaluate on the test file with ML.NET's own evaluator.
var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test), labelColumnName: "Label");
Console.WriteLine($"Test accuracy: {metrics.MicroAccuracy:F4} (macro accuracy {metrics.MacroAccuracy:F4}, log-loss {metrics.LogLoss:F4})");

// 4. Save the whole pipeline and load it back, as a serving application would.
FineTunePipeline.Save(mlContext, model, train.Schema, outputDir);
var loaded = FineTunePipeline.Load(mlContext, outputDir);
Console.WriteLine($"Model saved to {outputDir} and reloaded.");

// 5. Consume the reloaded model, one row at a time.
var engine = mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(loaded);
string[] samples =
[
    "Battery lasts two days and the screen is gorgeous. Best phone I've owned.",
    "The zipper broke the first time I used the bag. Sending it back.",
    "It's a kettle. It boils water. Nothing more to say.",
];
foreach (var text in samples)
{
    var prediction = engine.Predict(new ModelInput { Text = text });
    Console.WriteLine($"Prediction: {prediction.PredictedLabel,-9} (p = {prediction.Score.Max():F2})  {text}");
}
