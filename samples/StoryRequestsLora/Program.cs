// Story requests: instruction tuning of a real pretrained decoder (the bundled TinyStories Llama, 260K parameters) to
// write a story about the kind of hero the request asks for: "Write a story about an animal that uses the words X, Y
// and Z." Requests are built from real TinyStories: stories whose first sentence introduces an animal answer
// "about an animal", stories that introduce a girl or a boy answer "about a child" (the words come from each story's
// opening, never a hero word). The base model cannot read the request. Side by side on 60 held-out requests (30 of each
// kind): the base model, LoRA, QLoRA, and the same LoRA on a RANDOMLY initialised copy of the architecture at the same
// budget (what pretraining buys); the validation curve per epoch with early stopping; and perplexity on plain held-out
// stories before and after (catastrophic forgetting).
//
//   dotnet run -c Release --project samples/StoryRequestsLora -- [--model tinystories-260k|DIR] [--epochs N] [--patience P]
//       [--lr LR] [--rank R] [--max-length TOKENS] [--max-new-tokens N] [--only lora] [--output DIR]
using System.Diagnostics;
using System.Globalization;
using FineTune.MLNet;
using FineTune.MLNet.Training;
using FineTune.MLNet.Transformers;
using Microsoft.ML;

var arg = ParseArgs(args);
var model = arg.GetValueOrDefault("model", "tinystories-260k");
var output = arg.GetValueOrDefault("output", Path.Combine(Path.GetTempPath(), "story-requests-lora"));
var epochs = Int("epochs", 4);
var patience = Int("patience", 1);
var rank = Int("rank", 8);
var maxLength = Int("max-length", 64);
var lr = double.Parse(arg.GetValueOrDefault("lr", "5e-3"), CultureInfo.InvariantCulture);
var only = arg.GetValueOrDefault("only", "");   // "lora": skip the QLoRA and random-init runs (quicker experiments)
var clock = Stopwatch.StartNew();

var stories = HeroStories.Load(HeroStories.BundledPath);
var general = StoryCorpus.Load(StoryCorpus.BundledPath).General;
var train = HeroRequests.Build(stories.Train, stories.All);
var valid = HeroRequests.Build(stories.Validation, stories.All);
var test = HeroRequests.Build(stories.Test, stories.All);
var generation = StorySft.Greedy(Int("max-new-tokens", 40));
Console.WriteLine($"Base model: {model}. Task: {train.Count} training requests ({train.Count(r => r.Hero == HeroKind.Animal)} about an animal), {valid.Count} validation, " +
                  $"{test.Count} held-out ({test.Count(r => r.Hero == HeroKind.Animal)} about an animal, {test.Count(r => r.Hero == HeroKind.Child)} about a child); {general.Count} plain held-out stories for general-text perplexity.");
Console.WriteLine($"Example prompt: {test[0].Prompt}{HeroRequests.Separator.Replace("\n", "\\n", StringComparison.Ordinal)}...");

var ml = new MLContext(seed: 1);
var rows = new List<StoryScores>();
var curve = new EpochCurve();
int loraEpochs;

Console.WriteLine($"\n[1/3] LoRA r={rank} on all linear layers, lr {lr}, up to {epochs} epochs, early stopping patience {patience} on the validation loss...");
using (var lora = Fit(StorySft.Options(model, epochs, lr, patience: patience, progress: curve, rank: rank, maxLength: maxLength, separator: HeroRequests.Separator), "LoRA"))
{
    rows.Add(StorySft.Evaluate(lora, "base model (no tuning)", test, general, generation, disableAdapters: true));
    rows.Add(StorySft.Evaluate(lora, "LoRA-tuned", test, general, generation));
    PrintCurve(lora.TrainingReport!);
    loraEpochs = lora.TrainingReport!.State.History.Count;
    lora.SaveAdapter(Path.Combine(output, "lora-adapter"));
}

if (only != "lora")
{
    Console.WriteLine($"\n[2/3] QLoRA: the same LoRA over an NF4-quantized base...");
    using (var qlora = Fit(StorySft.Options(model, epochs, lr, qlora: true, patience: patience, rank: rank, maxLength: maxLength, separator: HeroRequests.Separator), "QLoRA"))
        rows.Add(StorySft.Evaluate(qlora, "QLoRA-tuned", test, general, generation));

    Console.WriteLine($"\n[3/3] The same LoRA on a RANDOM initialisation of the same architecture (no pretraining), same budget: {loraEpochs} epochs...");
    var randomDir = RandomInitModel.Create(ModelFolder.Resolve(model), Path.Combine(output, "random-init"));
    using (var scratch = Fit(StorySft.Options(randomDir, loraEpochs, lr, patience: patience, rank: rank, maxLength: maxLength, separator: HeroRequests.Separator), "random init + LoRA"))
        rows.Add(StorySft.Evaluate(scratch, "random init + LoRA", test, general, generation));
}

Console.WriteLine($"\nHeld-out requests ({test.Count}), greedy stories of at most {generation.MaxNewTokens} tokens; the hero of the first sentence:");
Console.WriteLine($"{"",-24}{"follows the",14}{"",14}{"asked for an animal",21}{"asked for a child",19}");
Console.WriteLine($"{"model",-24}{"request",14}{"95% interval",14}{"animal",11}{"child",10}{"child",10}{"animal",9}{"story ppl",11}{"general ppl",13}");
foreach (var r in rows)
{
    var c = HeroRequests.Count(test, r.Stories);
    var (low, high) = HeroRequests.Wilson(c.Followed, c.Total);
    Console.WriteLine($"{r.Label,-24}{$"{c.Followed / (double)c.Total:P1}",14}{$"{low:P0}-{high:P0}",14}" +
                      $"{$"{c.AnimalWhenAsked}/{c.AskedAnimal}",11}{$"{c.ChildWhenAnimalAsked}/{c.AskedAnimal}",10}{$"{c.ChildWhenAsked}/{c.AskedChild}",10}{$"{c.AnimalWhenChildAsked}/{c.AskedChild}",9}" +
                      $"{r.StoryPerplexity,11:F2}{r.GeneralPerplexity,13:F2}");
}
Console.WriteLine("  follows the request: the first sentence introduces the requested kind of hero (an animal word, or girl / boy / child");
Console.WriteLine("  / kid, not both); the four counts: first sentences with an animal or a child hero among the requests of each kind");
Console.WriteLine("  (a model that ignores the request writes the same mix for both). story ppl: perplexity of the reference story given its");
Console.WriteLine($"  request (first {maxLength} tokens with the prompt); general ppl: perplexity of {general.Count} plain held-out stories from BOS");
Console.WriteLine($"  (forgetting check: base {rows[0].GeneralPerplexity:F2} -> LoRA {rows[1].GeneralPerplexity:F2}).");

Directory.CreateDirectory(output);
File.WriteAllText(Path.Combine(output, "held-out-stories.json"), System.Text.Json.JsonSerializer.Serialize(
    rows.Select(r => new { model = r.Label, stories = test.Select((t, i) => new { request = t.Prompt, hero = t.Hero.ToString(), story = r.Stories[i] }) })));
foreach (var i in new[] { 0, 1, 2, 3 })
{
    Console.WriteLine($"\n{test[i].Prompt}");
    Console.WriteLine($"  base: {Short(rows[0].Stories[i])}");
    Console.WriteLine($"  LoRA: {Short(rows[1].Stories[i])}");
}
Console.WriteLine($"\nLoRA adapter (PEFT format) saved to {Path.Combine(output, "lora-adapter")}. Total run time {clock.Elapsed.TotalSeconds:F0}s.");

LoraFineTuneTransformer Fit(FineTune.MLNet.Estimators.LoraFineTuneOptions options, string label)
{
    var fitted = ml.Transforms.LoraFineTune(options, validationSet: StorySft.ToDataView(valid)).Fit(ml.Data.ShuffleRows(StorySft.ToDataView(train), seed: 1));
    var r = fitted.TrainingReport!;
    Console.WriteLine($"    {label}: {r.State.History.Count} epochs in {r.TrainSeconds:F0}s ({r.TokensPerSecond:F0} tokens/s){(r.State.StoppedEarly ? ", stopped early" : "")}.");
    return fitted;
}

int Int(string name, int fallback) => int.Parse(arg.GetValueOrDefault(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

static void PrintCurve(TrainingReport report)
{
    var history = report.State.History;
    var best = history.Where(h => h.ValidationLoss is not null).MinBy(h => h.ValidationLoss!.Value);
    Console.WriteLine("    epoch  train loss  validation loss");
    foreach (var h in history)
        Console.WriteLine($"    {h.Epoch + 1,5}  {h.TrainLoss,10:F4}  {h.ValidationLoss,15:F4}{(h == best ? "   <- best: weights restored from here" : h.Epoch > best!.Epoch ? "   (validation loss rising: overfitting)" : "")}");
    Console.WriteLine(report.State.StoppedEarly
        ? $"    Early stopping after epoch {history[^1].Epoch + 1}: no better validation loss for the patience window."
        : "    Ran every epoch (no early stop).");
}

static string Short(string s)
{
    var flat = s.Replace("\n", " ", StringComparison.Ordinal);
    return flat.Length <= 240 ? flat : flat[..240] + " ...";
}

static Dictionary<string, string> ParseArgs(string[] args)
{
    var d = new Dictionary<string, string>();
    for (var i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{args[i]}'.");
        d[args[i][2..]] = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    }
    return d;
}

/// <summary>Keeps the per-epoch progress quiet (the curve is printed from the report); prints validation passes as they come.</summary>
internal sealed class EpochCurve : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p)
    {
        if (p.IsValidation) Console.WriteLine($"      epoch {p.Epoch + 1}: validation loss {p.ValidationLoss:F4}");
    }
}
