using FineTune.MLNet.Data;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Transformers;
using Microsoft.ML;

/// <summary>
/// The DPO demo's data stage: sample several stories per request from the SFT model, let the <see cref="StoryJudge"/>
/// rank them, and keep (prompt, happiest, saddest) as a preference pair; plus the judge's win rate of one model's
/// stories over another's.
/// </summary>
public static class StoryPreferences
{
    public const string PromptColumn = "prompt";
    public const string ChosenColumn = "chosen";
    public const string RejectedColumn = "rejected";

    /// <summary>Sampling settings of the candidates: temperature 1, top-k 50, seeded.</summary>
    public static GenerationOptions Sampling(int maxNewTokens, long seed) =>
        StorySft.Greedy(maxNewTokens) with { DoSample = true, Temperature = 1.0, TopK = 50, Seed = seed };

    /// <summary>
    /// <paramref name="samples"/> sampled stories per request, scored by the judge; the best and the worst become a pair
    /// (requests whose best and worst score the same are skipped).
    /// </summary>
    public static IReadOnlyList<PreferencePair> Build(LoraFineTuneTransformer sft, StoryJudge judge, IReadOnlyList<StoryRequest> requests,
        int samples, int maxNewTokens, long seed)
    {
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), samples, "samples must be >= 2 to make a pair.");
        var prompts = requests.SelectMany(r => Enumerable.Repeat(r.Prompt, samples)).ToList();
        var stories = sft.Generate(prompts, Sampling(maxNewTokens, seed));
        var scores = judge.Score(stories);
        var pairs = new List<PreferencePair>();
        for (var i = 0; i < requests.Count; i++)
        {
            var candidates = Enumerable.Range(i * samples, samples).Where(j => stories[j].Length > 0).OrderByDescending(j => scores[j]).ToList();
            if (candidates.Count < 2 || scores[candidates[0]] <= scores[candidates[^1]]) continue;
            pairs.Add(new PreferencePair(requests[i].Prompt, stories[candidates[0]], stories[candidates[^1]], scores[candidates[0]], scores[candidates[^1]]));
        }
        return pairs;
    }

    public static IDataView ToDataView(IReadOnlyList<PreferencePair> pairs) =>
        new InMemoryTextDataView([PromptColumn, ChosenColumn, RejectedColumn],
            [pairs.Select(p => p.Prompt).ToArray(), pairs.Select(p => p.Chosen).ToArray(), pairs.Select(p => p.Rejected).ToArray()]);

    /// <summary>Share of prompts where <paramref name="a"/> scores higher than <paramref name="b"/> (ties count half).</summary>
    public static double WinRate(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count || a.Count == 0) throw new ArgumentException($"Win rate needs two equal, non-empty score lists (got {a.Count} and {b.Count}).");
        return a.Select((x, i) => x > b[i] ? 1.0 : x < b[i] ? 0.0 : 0.5).Average();
    }
}

/// <summary>A judged preference pair: the happiest and the saddest sampled story for one request.</summary>
public sealed record PreferencePair(string Prompt, string Chosen, string Rejected, double ChosenScore, double RejectedScore);
