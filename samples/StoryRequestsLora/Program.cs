// Story requests: instruction tuning of a real pretrained decoder (the bundled TinyStories Llama, 260K parameters) to
// write a story about the hero the request names: "Write a story about a dog." Requests are built from real
// TinyStories whose first sentence opens "Once upon a time, there was a [little, big, ...] HERO"; the story is the
// answer. Evaluation gives each model the request and the story's common first words "Once upon a time, there was" and
// reads the hero of the first sentence it writes (the base model, which does not read requests, writes "a little girl"
// for every request). Side by side on 60 held-out requests (6 girl, 4 boy, 35 other heroes seen in training, 15 never
// seen): the base model, LoRA, QLoRA, and the same LoRA on a RANDOMLY initialised copy of the architecture at the same
// budget (what pretraining buys); the validation curve per epoch with early stopping; and perplexity on plain held-out
// stories before and after (catastrophic forgetting).
//
//   dotnet run -c Release --project samples/StoryRequestsLora -- [--model tinystories-260k|DIR] [--epochs N] [--patience P]
//       [--lr LR] [--rank R] [--max-length TOKENS] [--max-new-tokens N] [--only lora] [--output DIR]
using System.Diagnostics;
using System.Globalization;
using FineTune.MLNet;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Transformers;
using Microsoft.ML;

var arg = ParseArgs(args);
var model = arg.GetValueOrDefault("model", "tinystories-260k");
var output = arg.GetValueOrDefault("output", Path.Combine(Path.GetTempPath(), "story-requests-lora"));
var epochs = Int("epochs", 2);
var patience = Int("patience", 1);
var rank = Int("rank", 8);
var maxLength = Int("max-length", 80);
var lr = double.Parse(arg.GetValueOrDefault("lr", "5e-3"), CultureInfo.InvariantCulture);
var only = arg.GetValueOrDefault("only", "");   // "lora": skip the QLoRA and random-init runs (quicker experiments)
var clock = Stopwatch.StartNew();

var stories = OpeningStories.Load(OpeningStories.BundledPath);
var seen = stories.TrainingHeroes;
var general = StoryCorpus.Load(StoryCorpus.BundledPath).General;
// Every story is cut to the opening that fits --max-length tokens after its request (uncut, SFT truncation would keep
// the story and drop the request), with no EOS after the cut.
FineTune.MLNet.Estimators.LoraFineTuneOptions Recipe(string modelOrFolder, int epochCount, bool qlora = false, IProgress<TrainingProgress>? progress = null) =>
    StorySft.Options(modelOrFolder, epochCount, lr, qlora: qlora, patience: patience, progress: progress, rank: rank, maxLength: maxLength, separator: HeroRequests.Separator, appendEos: false);
var fit = new SftExampleBuilder(HfTokenizer.FromFolder(ModelFolder.Resolve(model)), Recipe(model, epochs).Data);
var train = HeroRequests.Build(stories.Train, fit);
var valid = HeroRequests.Build(stories.Validation, fit);
var test = HeroRequests.Build(stories.Test, fit).ToList();
var generation = StorySft.Greedy(Int("max-new-tokens", 64));
var heroes = HeroRequests.Count(test, test.Select(t => t.Story).ToList(), seen);
Console.WriteLine($"Base model: {model}. Task: {train.Count} training requests ({train.Select(r => r.Hero).Distinct().Count()} heroes, {train.Count(r => r.Hero is "girl" or "boy")} of them girl or boy), " +
                  $"{valid.Count} validation, {test.Count} held-out ({heroes.GirlBoy.Total} girl or boy, {heroes.Seen.Total} other heroes seen in training, {heroes.Unseen.Total} never seen); " +
                  $"{general.Count} plain held-out stories for general-text perplexity.");
Console.WriteLine($"Example: \"{test[^1].Prompt}\\n{HeroRequests.Opening}\" -> the model goes on (its story: \"{test[^1].Story[..Math.Min(test[^1].Story.Length, 70)]}...\").");

var ml = new MLContext(seed: 1);
var rows = new List<StoryScores>();
var curve = new EpochCurve();
int loraEpochs;

Console.WriteLine($"\n[1/3] LoRA r={rank} on all linear layers, lr {lr}, up to {epochs} epochs, early stopping patience {patience} on the validation loss...");
using (var lora = Fit(Recipe(model, epochs, progress: curve), "LoRA"))
{
    rows.Add(StorySft.Evaluate(lora, "base model (no tuning)", test, general, generation, disableAdapters: true, opening: HeroRequests.Opening));
    rows.Add(StorySft.Evaluate(lora, "LoRA-tuned", test, general, generation, opening: HeroRequests.Opening));
    PrintCurve(lora.TrainingReport!);
    loraEpochs = lora.TrainingReport!.State.History.Count;
    lora.SaveAdapter(Path.Combine(output, "lora-adapter"));
}

if (only != "lora")
{
    Console.WriteLine($"\n[2/3] QLoRA: the same LoRA over an NF4-quantized base...");
    using (var qlora = Fit(Recipe(model, epochs, qlora: true), "QLoRA"))
        rows.Add(StorySft.Evaluate(qlora, "QLoRA-tuned", test, general, generation, opening: HeroRequests.Opening));

    Console.WriteLine($"\n[3/3] The same LoRA on a RANDOM initialisation of the same architecture (no pretraining), same budget: {loraEpochs} epochs...");
    var randomDir = RandomInitModel.Create(ModelFolder.Resolve(model), Path.Combine(output, "random-init"));
    using (var scratch = Fit(Recipe(randomDir, loraEpochs), "random init + LoRA"))
        rows.Add(StorySft.Evaluate(scratch, "random init + LoRA", test, general, generation, opening: HeroRequests.Opening));
}

Console.WriteLine($"\nHeld-out requests ({test.Count}); each model continues \"<request>\\n{HeroRequests.Opening}\" greedily for at most {generation.MaxNewTokens} tokens:");
Console.WriteLine($"{"",-24}{"names the hero",15}{"",13}{"girl/boy",10}{"seen",8}{"unseen",8}{"and again",11}{"'girl' for",12}");
Console.WriteLine($"{"model",-24}{"in sentence 1",15}{"95% interval",13}{"heroes",10}{"heroes",8}{"heroes",8}{"later",11}{"another",12}{"story ppl",11}{"general ppl",13}");
foreach (var r in rows)
{
    var c = HeroRequests.Count(test, r.Stories, seen);
    var (low, high) = HeroRequests.Wilson(c.Named, c.Total);
    var girlElsewhere = test.Where((t, i) => t.Hero != "girl" && HeroRequests.Follows("girl", r.Stories[i]).Named).Count();
    Console.WriteLine($"{r.Label,-24}{$"{c.Named}/{c.Total} {c.Named / (double)c.Total:P0}",15}{$"{low:P0}-{high:P0}",13}" +
                      $"{$"{c.GirlBoy.Named}/{c.GirlBoy.Total}",10}{$"{c.Seen.Named}/{c.Seen.Total}",8}{$"{c.Unseen.Named}/{c.Unseen.Total}",8}{$"{c.NamedAgain}/{c.Total}",11}" +
                      $"{$"{girlElsewhere}/{test.Count(t => t.Hero != "girl")}",12}{r.StoryPerplexity,11:F2}{r.GeneralPerplexity,13:F2}");
}
Console.WriteLine("  names the hero: the first sentence of the continuation has the requested hero word (a plural allowed); girl/boy,");
Console.WriteLine("  seen, unseen: the requests for girl or boy, for other heroes that training stories have, and for heroes no training");
Console.WriteLine("  story has; and again later: named in the first sentence and again after it (the story stays about it); 'girl' for");
Console.WriteLine("  another: continuations that write 'girl' when the request asks for another hero. story ppl: perplexity of the");
Console.WriteLine($"  reference story's opening given its request (cut to fit {maxLength} tokens with it); general ppl: perplexity of {general.Count} plain");
Console.WriteLine($"  held-out stories from BOS (forgetting check: base {rows[0].GeneralPerplexity:F2} -> LoRA {rows[1].GeneralPerplexity:F2}).");

Directory.CreateDirectory(output);
File.WriteAllText(Path.Combine(output, "held-out-stories.json"), System.Text.Json.JsonSerializer.Serialize(
    rows.Select(r => new { model = r.Label, stories = test.Select((t, i) => new { request = t.Prompt, hero = t.Hero, continuation = HeroRequests.Opening + " " + r.Stories[i].TrimStart() }) })));
var examples = new[] { test.FindIndex(t => t.Hero == "girl"), test.FindIndex(t => t.Hero == "boy") }
    .Concat(Enumerable.Range(0, test.Count).Where(i => test[i].Hero is not ("girl" or "boy") && seen.Contains(test[i].Hero)).Take(2))
    .Concat(Enumerable.Range(0, test.Count).Where(i => !seen.Contains(test[i].Hero)).Take(2));
foreach (var i in examples)
{
    Console.WriteLine($"\n{test[i].Prompt}{(seen.Contains(test[i].Hero) ? "" : " (a hero no training story has)")}");
    foreach (var r in rows) Console.WriteLine($"  {r.Label.Split(' ')[0].Replace("-tuned", "", StringComparison.Ordinal) + ":",-8}{Short(HeroRequests.Opening + " " + r.Stories[i].TrimStart())}");
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
    return flat.Length <= 150 ? flat : flat[..150] + " ...";
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
