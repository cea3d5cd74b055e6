// Code assistant preference alignment: SFT a decoder LLM with LoRA on (prompt, preferred answer) pairs of short
// programming questions, then align it with DPO on (prompt, chosen, rejected) triples — chosen = correct and concise,
// rejected = plausible but worse (SQL built by string concatenation, off-by-one, deprecated API, ...) — while the
// reward margin is monitored every few steps; held-out DPO metrics before vs after DPO, SFT vs DPO answers, and the
// DPO adapter saved in PEFT's format.
//
//   dotnet run -c Release --project samples/CodeAssistantDpo -- [--model DIR] [--sft-epochs N] [--dpo-epochs N] [--beta B] [--dpo-lr LR] [--lora-rank R] [--output DIR]
using System.Globalization;
using FineTune.MLNet;
using FineTune.MLNet.Data;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Dpo;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;

var arg = SampleArgs.Parse(args);
var data = Path.Combine(AppContext.BaseDirectory, "data");
var output = arg.GetValueOrDefault("output", Path.Combine(Path.GetTempPath(), "code-assistant-dpo"));
var usingDemoModel = !arg.ContainsKey("model");
var modelDir = usingDemoModel ? DemoModel.Create(Path.Combine(output, "demo-base-model")) : arg["model"];
var rank = Int(arg, "lora-rank", 16);
// The random stand-in moves hundreds of nats away from its base during SFT, so beta 0.1 saturates the sigmoid; 0.01 keeps it informative.
var beta = double.Parse(arg.GetValueOrDefault("beta", usingDemoModel ? "0.01" : "0.1"), CultureInfo.InvariantCulture);

var ml = new MLContext(seed: 1);
var train = DelimitedTextReader.Read(Path.Combine(data, "code_prefs.train.csv"));
var test = DelimitedTextReader.Read(Path.Combine(data, "code_prefs.test.csv"));
var trainView = ml.Data.ShuffleRows(train.ToDataView(ml, "prompt", "chosen", "rejected"), seed: 1);
var testView = test.ToDataView(ml, "prompt", "chosen", "rejected");
var testTriples = Triples(test);
var dataOptions = new SftDataOptions { MaxLength = 256 };
var generation = new GenerationOptions { MaxNewTokens = 40 };

Console.WriteLine(usingDemoModel
    ? "Base model: a small RANDOM llama (4 layers, hidden 128) standing in for a code model. It knows no code, so what\n" +
      "follows only demonstrates the mechanics (SFT -> DPO, reward margin, adapters); pass --model DIR with a real\n" +
      "checkpoint (e.g. Qwen2.5-Coder-0.5B-Instruct) for meaningful answers."
    : $"Base model: {modelDir}");

// (a) SFT: LoRA on (prompt, chosen).
var sftOptions = new LoraFineTuneOptions
{
    Model = modelDir,
    PromptColumnName = "prompt",
    ResponseColumnName = "chosen",
    OutputColumnName = "answer",
    Lora = new LoraSettings { Rank = rank, Alpha = 2 * rank, Dropout = 0.05, TargetModules = ["all-linear"] },
    Epochs = Int(arg, "sft-epochs", usingDemoModel ? 10 : 2),
    LearningRate = usingDemoModel ? 5e-3 : 2e-4,
    BatchSize = 8,
    Data = dataOptions,
    Generation = generation,
};
Console.WriteLine($"\n(a) SFT: LoRA r={rank} on all linear layers, {train.RowCount} (prompt, chosen) pairs, {sftOptions.Epochs} epochs...");
var sftAdapter = Path.Combine(output, "sft-adapter");
IReadOnlyList<string> sftAnswers;
DpoMetrics beforeDpo;
using (var sft = ml.Transforms.LoraFineTune(sftOptions).Fit(trainView))
{
    Console.WriteLine($"    trained in {sft.TrainingReport!.TrainSeconds:F0}s, final train loss {sft.TrainingReport.State.History[^1].TrainLoss:F3}");
    sft.SaveAdapter(sftAdapter);
    Console.WriteLine($"    SFT adapter saved to {sftAdapter}");
    // (c, before) held-out DPO metrics of the SFT model: policy = SFT adapter, reference = base (adapters off), as DPO will use.
    beforeDpo = PreferenceScorer.Score(sft.Model, sft.Tokenizer, dataOptions, testTriples, beta);
    sftAnswers = sft.Generate(testTriples.Take(2).Select(t => t.Prompt).ToList());
}

// (b) DPO from the SFT adapter on (prompt, chosen, rejected), the test triples as the validation set.
var dpoOptions = new DpoFineTuneOptions
{
    Model = modelDir,
    AdapterPath = sftAdapter,
    PromptColumnName = "prompt",
    ChosenColumnName = "chosen",
    RejectedColumnName = "rejected",
    OutputColumnName = "answer",
    Beta = beta,
    Epochs = Int(arg, "dpo-epochs", usingDemoModel ? 4 : 1),
    LearningRate = double.Parse(arg.GetValueOrDefault("dpo-lr", usingDemoModel ? "3e-4" : "5e-6"), CultureInfo.InvariantCulture),
    BatchSize = 8,
    Data = dataOptions,
    Generation = generation,
    DpoProgress = new DpoMarginLog(everySteps: 6),
};
Console.WriteLine($"\n(b) DPO from the SFT adapter: beta {beta}, {train.RowCount} preference triples, {dpoOptions.Epochs} epochs, " +
                  $"reference = base with adapters off; validation = the {test.RowCount} held-out triples after each epoch.");
using var dpo = ml.Transforms.DpoFineTune(dpoOptions, validationSet: testView).Fit(trainView);
Console.WriteLine($"    trained in {dpo.TrainingReport!.TrainSeconds:F0}s");
var afterDpo = PreferenceScorer.Score(dpo.Model, dpo.Tokenizer, dataOptions, testTriples, beta);

// (c) held-out metrics before vs after DPO, and answers.
Console.WriteLine($"\n(c) held-out triples ({test.RowCount}), reference = base model:");
Console.WriteLine($"    {"",-12}{"DPO loss",10}{"reward acc",12}{"margin",10}{"r/chosen",10}{"r/rejected",12}{"logp/chosen",13}{"logp/rejected",15}");
foreach (var (label, x) in new[] { ("SFT", beforeDpo), ("SFT + DPO", afterDpo) })
{
    Console.WriteLine($"    {label,-12}{x.Loss,10:F4}{x.RewardsAccuracy,12:P0}{x.RewardsMargin,10:F4}{x.RewardsChosen,10:F4}{x.RewardsRejected,12:F4}{x.LogpsChosen,13:F2}{x.LogpsRejected,15:F2}");
}
var lastValidation = dpo.DpoHistory.Last(p => p.IsValidation).Metrics;
if (usingDemoModel)
    Console.WriteLine("    The random stand-in can only memorise the training pairs (watch the train margin and accuracy rise above);\n" +
                      "    it has no knowledge to generalise from, so the held-out numbers are not expected to improve.");
Console.WriteLine($"    (the DPO run's last validation pass: loss {lastValidation.Loss:F4}, margin {lastValidation.RewardsMargin:F4}, accuracy {lastValidation.RewardsAccuracy:P0})");

var dpoAnswers = dpo.Generate(testTriples.Take(2).Select(t => t.Prompt).ToList());
for (var i = 0; i < 2; i++)
{
    Console.WriteLine($"\nQ: {testTriples[i].Prompt}");
    Console.WriteLine($"   chosen:   {Indent(testTriples[i].Chosen)}");
    Console.WriteLine($"   rejected: {Indent(testTriples[i].Rejected)}");
    Console.WriteLine($"   SFT:      {Indent(sftAnswers[i])}");
    Console.WriteLine($"   DPO:      {Indent(dpoAnswers[i])}");
}

// (d) the DPO adapter, PEFT format.
var dpoAdapter = Path.Combine(output, "dpo-adapter");
dpo.SaveAdapter(dpoAdapter);
Console.WriteLine($"\n(d) DPO adapter saved to {dpoAdapter} (adapter_config.json + adapter_model.safetensors).");
if (usingDemoModel)
    Console.WriteLine("Reminder: the base was a random stand-in, so the answers above are noise and the numbers only show that the mechanics work.");

static List<(string Prompt, string Chosen, string Rejected)> Triples(DelimitedTable t) =>
    t.GetColumn("prompt").Select((p, i) => (p, t.GetColumn("chosen")[i], t.GetColumn("rejected")[i])).ToList();

static string Indent(string s) => s.Replace("\n", "\n             ", StringComparison.Ordinal);

static int Int(Dictionary<string, string> arg, string name, int fallback) =>
    arg.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
