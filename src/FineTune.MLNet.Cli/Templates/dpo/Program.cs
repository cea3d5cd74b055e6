// {{Name}}: DPO preference alignment of the bundled tinystories-260k decoder with FineTune.MLNet: for each story opening
// it learns to prefer the story's own continuation (Chosen) over another story's (Rejected). Trains inside ML.NET,
// prints the reward margin, saves the adapter, reloads it and generates stories.
//
//   dotnet run -c Release -- [--train FILE] [--epochs N] [--limit N] [--lr X] [--beta X] [--model tinystories-260k|DIR] [--output DIR]
//
// Data: a CSV/TSV file with a header row and the columns Prompt, Chosen and Rejected.
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
var epochs = arguments.GetInt("epochs", 2);
var limit = arguments.GetInt("limit", int.MaxValue);          // pairs to train on: --limit 32 for a quick trial
var learningRate = arguments.GetDouble("lr", 2e-3);
var beta = arguments.GetDouble("beta", 0.1);
var modelName = arguments.Get("model", "tinystories-260k");   // bundled decoder, or a Hugging Face llama/mistral/qwen2 folder
var outputDir = arguments.Get("output", Path.Combine(Environment.CurrentDirectory, "model"));

var mlContext = new MLContext(seed: 1);

// 1. Load the data (a quote-aware CSV/TSV reader: fields may hold commas, quotes and line breaks).
var train = mlContext.Data.TakeRows(DelimitedTextReader.Read(trainPath).ToDataView(mlContext, "Prompt", "Chosen", "Rejected"), limit);

// 2. The estimator: fresh LoRA adapters on every linear layer; the reference model is the base with adapters off.
var options = new DpoFineTuneOptions
{
    Model = modelName,
    PromptColumnName = "Prompt",
    ChosenColumnName = "Chosen",
    RejectedColumnName = "Rejected",
    OutputColumnName = "Generated",
    Beta = beta,
    Lora = new LoraSettings { Rank = 8, Alpha = 16, TargetModules = ["all-linear"] },
    Epochs = epochs,
    LearningRate = learningRate,
    BatchSize = 8,
    Data = new SftDataOptions { MaxLength = 128, Separator = " " },    // prompt + " " + completion, as one story
    Generation = new GenerationOptions { MaxNewTokens = 48 },          // greedy decoding
};

Console.WriteLine($"DPO on {modelName} with {trainPath} ({epochs} epoch(s), beta {beta})...");
using (var model = mlContext.Transforms.DpoFineTune(options).Fit(train))
{
    // The TRL metrics of every optimizer step: the reward margin should grow, the reward accuracy reach 100 %.
    var history = model.DpoHistory.Where(p => !p.IsValidation).ToList();
    var first = history[0].Metrics;
    var last = history[^1].Metrics;
    Console.WriteLine($"  step 1: reward margin {first.RewardsMargin:F4}, reward accuracy {first.RewardsAccuracy:P0}, loss {first.Loss:F4}");
    Console.WriteLine($"  step {history[^1].Step}: reward margin {last.RewardsMargin:F4}, reward accuracy {last.RewardsAccuracy:P0}, loss {last.Loss:F4}");
    Console.WriteLine($"Trained in {model.TrainingReport!.TrainSeconds:F1}s.");

    // 3. Save: the PEFT adapter (adapter/), the settings and the DPO history; the base model is referenced by name or path.
    model.Save(outputDir);
}

// 4. Load it back, as a serving application would, and generate (StoryGeneration.cs).
StoryGeneration.ReloadAndGenerate(outputDir);
