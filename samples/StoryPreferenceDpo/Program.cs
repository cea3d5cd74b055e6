// Story preferences: the whole DPO pipeline offline on a real pretrained decoder (the bundled TinyStories Llama).
//   SFT (LoRA on story requests) -> several sampled stories per request -> a real judge model (the bundled MiniLM
//   sentence encoder, zero-shot: happy vs sad story) ranks them -> (prompt, happiest, saddest) pairs -> DPO from the SFT
//   adapter with the reward margin logged -> on held-out requests: judge win rate of DPO over SFT stories, reward
//   accuracy and margin on held-out judged pairs, requested-word inclusion, and general-text perplexity before and
//   after (the alignment tax).
//
//   dotnet run -c Release --project samples/StoryPreferenceDpo -- [--model tinystories-260k|DIR] [--train N] [--sft-epochs N] [--sft-lr LR] [--dpo-epochs N] [--beta B] [--dpo-lr LR] [--samples K] [--dpo-prompts N] [--output DIR]
using System.Diagnostics;
using System.Globalization;
using FineTune.MLNet;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Evaluation;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Dpo;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;

var arg = SampleArgs.Parse(args);
var model = arg.GetValueOrDefault("model", "tinystories-260k");
var output = arg.GetValueOrDefault("output", Path.Combine(Path.GetTempPath(), "story-preference-dpo"));
var sftEpochs = Int("sft-epochs", 2);
var dpoEpochs = Int("dpo-epochs", 2);
var samples = Int("samples", 4);
var dpoPrompts = Int("dpo-prompts", 40);
var beta = Double("beta", 0.1);
var dpoLr = Double("dpo-lr", 2e-3);
const int MaxNewTokens = 80;
var clock = Stopwatch.StartNew();

var corpus = StoryCorpus.Load(StoryCorpus.BundledPath);
var all = corpus.Train.Concat(corpus.Validation).Concat(corpus.Test).Concat(corpus.General).ToList();
var train = StoryRequests.Build(corpus.Train, all).Take(Int("train", 120)).ToList();
var test = StoryRequests.Build(corpus.Test, all);
var greedy = StorySft.Greedy(MaxNewTokens);
var ml = new MLContext(seed: 1);
using var judge = new StoryJudge();
Console.WriteLine($"Base model: {model}. Judge: MiniLM (all-MiniLM-L6-v2) zero-shot, score = cos(story, happy) - cos(story, sad).");

// (a) SFT: LoRA on the story requests.
Console.WriteLine($"\n(a) SFT: LoRA r=8 on {train.Count} story requests, {sftEpochs} epochs...");
var sftAdapter = Path.Combine(output, "sft-adapter");
IReadOnlyList<PreferencePair> trainPairs, heldOutPairs;
Outputs baseOut, sftOut;
DpoMetrics beforeDpo;
using (var sft = ml.Transforms.LoraFineTune(StorySft.Options(model, sftEpochs, Double("sft-lr", 3e-3))).Fit(ml.Data.ShuffleRows(StorySft.ToDataView(train), seed: 1)))
{
    Console.WriteLine($"    trained in {sft.TrainingReport!.TrainSeconds:F0}s, final train loss {sft.TrainingReport.State.History[^1].TrainLoss:F3}");
    sft.SaveAdapter(sftAdapter);

    // (b) candidates sampled from the SFT model, ranked by the judge.
    Console.WriteLine($"\n(b) {samples} sampled stories (temperature 1, top-k 50) for each of {dpoPrompts} training and {test.Count} held-out requests, ranked by the judge...");
    var sw = Stopwatch.StartNew();
    trainPairs = StoryPreferences.Build(sft, judge, train.Take(dpoPrompts).ToList(), samples, MaxNewTokens, seed: 11);
    heldOutPairs = StoryPreferences.Build(sft, judge, test, samples, MaxNewTokens, seed: 12);
    Console.WriteLine($"    {trainPairs.Count} training and {heldOutPairs.Count} held-out (prompt, chosen, rejected) pairs in {sw.Elapsed.TotalSeconds:F0}s; " +
                      $"judge score chosen {trainPairs.Average(p => p.ChosenScore):F3} vs rejected {trainPairs.Average(p => p.RejectedScore):F3} on average.");
    var example = trainPairs[0];
    Console.WriteLine($"    e.g. {example.Prompt}\n      chosen   ({example.ChosenScore:+0.000;-0.000}): ...{Tail(example.Chosen)}\n      rejected ({example.RejectedScore:+0.000;-0.000}): ...{Tail(example.Rejected)}");

    beforeDpo = PreferenceScorer.Score(sft.Model, sft.Tokenizer, StorySft.Data, Triples(heldOutPairs), beta);
    IReadOnlyList<string> baseStories;
    using (sft.Model.DisableAdapters()) baseStories = sft.Generate(test.Select(r => r.Prompt).ToList(), greedy);
    baseOut = Measure(sft.Model, sft.Tokenizer, baseStories, disableAdapters: true);
    sftOut = Measure(sft.Model, sft.Tokenizer, sft.Generate(test.Select(r => r.Prompt).ToList(), greedy), disableAdapters: false);
}

// (c) DPO from the SFT adapter; reference = the base model with adapters off (TRL's PEFT default).
var dpoOptions = new DpoFineTuneOptions
{
    Model = model,
    AdapterPath = sftAdapter,
    PromptColumnName = StoryPreferences.PromptColumn,
    ChosenColumnName = StoryPreferences.ChosenColumn,
    RejectedColumnName = StoryPreferences.RejectedColumn,
    Beta = beta,
    Epochs = dpoEpochs,
    LearningRate = dpoLr,
    BatchSize = 8,
    Data = StorySft.Data,
    Generation = greedy,
    InferenceBatchSize = 20,
    DpoProgress = new DpoMarginLog(everySteps: 5),
};
Console.WriteLine($"\n(c) DPO from the SFT adapter: beta {beta}, lr {dpoLr}, {trainPairs.Count} pairs, {dpoEpochs} epochs; held-out pairs validate each epoch.");
using var dpo = ml.Transforms.DpoFineTune(dpoOptions, validationSet: StoryPreferences.ToDataView(heldOutPairs)).Fit(ml.Data.ShuffleRows(StoryPreferences.ToDataView(trainPairs), seed: 1));
Console.WriteLine($"    trained in {dpo.TrainingReport!.TrainSeconds:F0}s");
var afterDpo = PreferenceScorer.Score(dpo.Model, dpo.Tokenizer, StorySft.Data, Triples(heldOutPairs), beta);
var dpoOut = Measure(dpo.Model, dpo.Tokenizer, dpo.Generate(test.Select(r => r.Prompt).ToList(), greedy), disableAdapters: false);

// (d) held-out comparison.
Console.WriteLine($"\n(d) Held-out requests ({test.Count}), greedy stories; {heldOutPairs.Count} held-out judged pairs (reference = base):");
Console.WriteLine($"    {"model",-10}{"judge score",13}{"happy (>0)",12}{"words used",12}{"general ppl",13}{"reward acc",12}{"margin",9}{"DPO loss",10}");
Console.WriteLine($"    {"base",-10}{baseOut.Judge.Average(),13:F4}{baseOut.Judge.Count(s => s > 0) / (double)test.Count,12:P0}{baseOut.WordRate,12:P1}{baseOut.GeneralPerplexity,13:F3}{"",12}{"",9}{"",10}");
foreach (var (label, o, m) in new[] { ("SFT", sftOut, beforeDpo), ("SFT + DPO", dpoOut, afterDpo) })
    Console.WriteLine($"    {label,-10}{o.Judge.Average(),13:F4}{o.Judge.Count(s => s > 0) / (double)test.Count,12:P0}{o.WordRate,12:P1}{o.GeneralPerplexity,13:F3}{m.RewardsAccuracy,12:P0}{m.RewardsMargin,9:F3}{m.Loss,10:F4}");
Console.WriteLine($"    Judge win rate of DPO over SFT stories on the same held-out requests: {StoryPreferences.WinRate(dpoOut.Judge, sftOut.Judge):P1} (ties count half).");
Console.WriteLine($"    Alignment tax: general-text perplexity SFT {sftOut.GeneralPerplexity:F3} -> DPO {dpoOut.GeneralPerplexity:F3}; requested words used {sftOut.WordRate:P1} -> {dpoOut.WordRate:P1}.");
for (var i = 0; i < 2; i++)
{
    Console.WriteLine($"\n{test[i].Prompt}");
    Console.WriteLine($"  SFT ({sftOut.Judge[i]:+0.000;-0.000}): {Short(sftOut.Stories[i])}");
    Console.WriteLine($"  DPO ({dpoOut.Judge[i]:+0.000;-0.000}): {Short(dpoOut.Stories[i])}");
}
dpo.SaveAdapter(Path.Combine(output, "dpo-adapter"));
Console.WriteLine($"\nDPO adapter (PEFT format) saved to {Path.Combine(output, "dpo-adapter")}. Total run time {clock.Elapsed.TotalSeconds:F0}s.");

// Judge scores, requested-word inclusion and general-text perplexity of one model's held-out stories.
Outputs Measure(LlamaForCausalLM m, HfTokenizer tokenizer, IReadOnlyList<string> stories, bool disableAdapters)
{
    var evaluator = new SftEvaluator(m, tokenizer, new SftExampleBuilder(tokenizer, StorySft.Data), batchSize: 20);
    var general = evaluator.Evaluate(new SftEvaluationSets { GeneralText = corpus.General }, disableAdapters: disableAdapters).GeneralText!.Perplexity;
    return new Outputs(stories, judge.Score(stories), StoryRequests.InclusionRates(test, stories).WordRate, general);
}

static List<(string Prompt, string Chosen, string Rejected)> Triples(IReadOnlyList<PreferencePair> pairs) => pairs.Select(p => (p.Prompt, p.Chosen, p.Rejected)).ToList();

static string Tail(string s) { var f = s.Replace("\n", " ", StringComparison.Ordinal); return f.Length <= 160 ? f : f[^160..]; }

static string Short(string s) { var f = s.Replace("\n", " ", StringComparison.Ordinal); return f.Length <= 300 ? f : f[..300] + " ..."; }

int Int(string name, int fallback) => arg.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
double Double(string name, double fallback) => arg.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

internal sealed record Outputs(IReadOnlyList<string> Stories, double[] Judge, double WordRate, double GeneralPerplexity);
