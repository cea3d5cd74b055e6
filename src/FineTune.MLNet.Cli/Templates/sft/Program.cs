// {{Name}}: LoRA supervised fine-tuning (SFT) of the bundled tinystories-260k decoder with FineTune.MLNet: it learns to
// continue a story's opening sentence. Trains inside ML.NET, saves the adapter, reloads it and generates stories.
//
//   dotnet run -c Release -- [--train FILE] [--epochs N] [--limit N] [--lr X] [--model tinystories-260k|DIR] [--output DIR]
//
// Data: a CSV/TSV file with a header row and the columns Prompt and Response; the loss covers the response only.
using FineTune.MLNet;
using FineTune.MLNet.Data;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;
using {{Namespace}};

var arguments = Arguments.Parse(args);
var trainPath = arguments.Get("train", Path.Combine(AppContext.BaseDirectory, "data", "train.csv"));
var epochs = arguments.GetInt("epochs", 3);
var limit = arguments.GetInt("limit", int.MaxValue);          // rows to train on: --limit 32 for a quick trial
var learningRate = arguments.GetDouble("lr", 3e-3);
var modelName = arguments.Get("model", "tinystories-260k");   // bundled decoder, or a Hugging Face llama/mistral/qwen2 folder
var outputDir = arguments.Get("output", Path.Combine(Environment.CurrentDirectory, "model"));

var mlContext = new MLContext(seed: 1);

// 1. Load the data (a quote-aware CSV/TSV reader: fields may hold commas, quotes and line breaks).
var train = mlContext.Data.TakeRows(DelimitedTextReader.Read(trainPath).ToDataView(mlContext, "Prompt", "Response"), limit);

// 2. The estimator: LoRA adapters on every linear layer of the frozen base model.
var options = new LoraFineTuneOptions
{
    Model = modelName,
    PromptColumnName = "Prompt",
    ResponseColumnName = "Response",
    OutputColumnName = "Generated",
    Lora = new LoraSettings { Rank = 8, Alpha = 16, TargetModules = ["all-linear"] },
    Epochs = epochs,
    LearningRate = learningRate,
    BatchSize = 8,
    Data = new SftDataOptions { MaxLength = 128, Separator = " " },    // prompt + " " + response, as one story
    Generation = new GenerationOptions { MaxNewTokens = 48 },          // greedy decoding
};

Console.WriteLine($"LoRA fine-tuning {modelName} on {trainPath} ({epochs} epoch(s))...");
using (var model = mlContext.Transforms.LoraFineTune(options).Fit(train))
{
    var report = model.TrainingReport!;
    foreach (var epoch in report.State.History)
        Console.WriteLine($"  epoch {epoch.Epoch + 1}: train loss {epoch.TrainLoss:F4}");
    Console.WriteLine($"Trained in {report.TrainSeconds:F1}s ({report.TokensPerSecond:F0} tokens/s).");

    // 3. Save: the PEFT adapter (adapter/) plus the settings; the base model is referenced by name or path.
    model.Save(outputDir);
}

// 4. Load it back, as a serving application would, and generate (StoryGeneration.cs).
StoryGeneration.ReloadAndGenerate(outputDir);
