// Domain Q&A assistant: LoRA (or QLoRA) fine-tuning of a decoder LLM on question/answer pairs about an internal
// knowledge base, then answers to held-out questions compared with the base model, a forgetting check, and the
// adapter saved in PEFT's format (loadable by Python PEFT and vLLM).
//
//   dotnet run -c Release --project samples/DomainQaLora -- [--model DIR] [--qlora] [--epochs N] [--lora-rank R] [--output DIR]
using System.Globalization;
using FineTune.MLNet;
using FineTune.MLNet.Data;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Evaluation;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;

var arg = ParseArgs(args);
var data = Path.Combine(AppContext.BaseDirectory, "data");
var output = arg.GetValueOrDefault("output", Path.Combine(Path.GetTempPath(), "domain-qa-lora"));
var modelDir = arg.TryGetValue("model", out var m) ? m : DemoModel.Create(Path.Combine(output, "demo-base-model"));
var usingDemoModel = !arg.ContainsKey("model");
var rank = int.Parse(arg.GetValueOrDefault("lora-rank", "16"), CultureInfo.InvariantCulture);

var ml = new MLContext(seed: 1);
var train = DelimitedTextReader.Read(Path.Combine(data, "kb_qa.train.csv"));
var test = DelimitedTextReader.Read(Path.Combine(data, "kb_qa.test.csv"));
var general = File.ReadAllLines(Path.Combine(data, "general_text.txt")).Where(l => l.Trim().Length > 0).ToList();
var trainView = ml.Data.ShuffleRows(train.ToDataView(ml, "question", "answer"), seed: 1);

var options = new LoraFineTuneOptions
{
    Model = modelDir,
    PromptColumnName = "question",
    ResponseColumnName = "answer",
    OutputColumnName = "generated_answer",
    Lora = new LoraSettings { Rank = rank, Alpha = 2 * rank, Dropout = 0.05, TargetModules = ["all-linear"], QuantizeBase = arg.ContainsKey("qlora") },
    Epochs = int.Parse(arg.GetValueOrDefault("epochs", usingDemoModel ? "30" : "3"), CultureInfo.InvariantCulture),
    LearningRate = usingDemoModel ? 5e-3 : 2e-4,
    BatchSize = 8,
    Data = new SftDataOptions { MaxLength = 256 },
    Generation = new GenerationOptions { MaxNewTokens = 48 },
    Progress = new ConsoleProgress(),
};

Console.WriteLine($"Base model: {(usingDemoModel ? "small random llama (demo stand-in; pass --model DIR for a real checkpoint)" : modelDir)}");
Console.WriteLine($"{(options.Lora.QuantizeBase ? "QLoRA" : "LoRA")} r={rank} on all linear layers, {train.RowCount} Q&A pairs, {options.Epochs} epochs...");
var fitted = ml.Transforms.LoraFineTune(options).Fit(trainView);
Console.WriteLine($"Trained in {fitted.TrainingReport!.TrainSeconds:F0}s ({fitted.TrainingReport.TokensPerSecond:F0} tokens/s).");

var questions = test.GetColumn("question").Zip(test.GetColumn("answer"), (q, a) => new QuestionAnswer(q, a)).ToList();
var evaluator = new SftEvaluator(fitted.Model, fitted.Tokenizer, new SftExampleBuilder(fitted.Tokenizer, options.Data));
var sets = new SftEvaluationSets { QuestionAnswers = questions, GeneralText = general };
var before = evaluator.Evaluate(sets, options.Generation, disableAdapters: true);
var after = evaluator.Evaluate(sets, options.Generation);

Console.WriteLine();
Console.WriteLine($"{"held-out questions (" + questions.Count + ")",-30}{"exact match",12}{"token F1",10}{"ROUGE-L",10}{"general-text ppl",18}");
foreach (var (label, e) in new[] { ("base model", before), ("LoRA-tuned", after) })
{
    var s = e.Generation!.Scores;
    Console.WriteLine($"{label,-30}{s.ExactMatch,12:P1}{s.F1,10:F3}{s.RougeL,10:F3}{e.GeneralText!.Perplexity,18:F1}");
}
Console.WriteLine();
foreach (var i in new[] { 0, 1, 2 })
{
    Console.WriteLine($"Q: {questions[i].Question}");
    Console.WriteLine($"   reference: {questions[i].Reference}");
    Console.WriteLine($"   base:      {before.Generation!.Predictions[i]}");
    Console.WriteLine($"   tuned:     {after.Generation!.Predictions[i]}");
}

var adapterDir = Path.Combine(output, "adapter");
fitted.SaveAdapter(adapterDir);
Console.WriteLine($"\nPEFT adapter saved to {adapterDir} (adapter_config.json + adapter_model.safetensors).");

static Dictionary<string, string> ParseArgs(string[] args)
{
    var d = new Dictionary<string, string>();
    for (var i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{args[i]}'.");
        var name = args[i][2..];
        d[name] = name == "qlora" ? "true" : (i + 1 < args.Length ? args[++i] : throw new ArgumentException($"--{name} needs a value."));
    }
    return d;
}

/// <summary>Prints every 50th step synchronously (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p)
    {
        if (!p.IsValidation && (p.Step % 50 == 0 || p.Step == p.TotalSteps))
            Console.WriteLine($"  step {p.Step}/{p.TotalSteps}: loss {p.TrainLoss:F3}, {p.TokensPerSecond:F0} tokens/s");
    }
}
