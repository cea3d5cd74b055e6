using FineTune.MLNet.Estimators;
using FineTune.MLNet.Tests.Checkpoints;
using Microsoft.ML;
using Xunit;

namespace FineTune.MLNet.Tests.Samples;

/// <summary>
/// The story demos' core paths (samples/StoryRequestsLora, samples/StoryPreferenceDpo; their shared code is compiled
/// into this project) on the bundled tinystories-260k with a tiny budget: requests built from the stories, LoRA SFT
/// that must lower the held-out story perplexity, the MiniLM judge's ranking, and DPO that must raise the reward margin
/// of the judged pairs.
/// </summary>
public sealed class StoryDemoSmokeTests
{
    private static readonly StoryCorpus Corpus = StoryCorpus.Load(StoryCorpus.BundledPath);
    private static readonly List<string> AllStories = [.. Corpus.Train, .. Corpus.Validation, .. Corpus.Test, .. Corpus.General];

    [Fact]
    public void Requests_name_three_words_of_their_own_story_and_are_deterministic()
    {
        var requests = StoryRequests.Build(Corpus.Train, AllStories);
        Assert.InRange(requests.Count, 180, 200);
        foreach (var r in requests)
        {
            Assert.Equal(3, r.Words.Distinct().Count());
            Assert.Equal(3, StoryRequests.Included(r.Words, r.Story));              // every requested word is in the reference
            Assert.All(r.Words, w => Assert.Contains(" " + w, r.Prompt, StringComparison.Ordinal));
        }
        Assert.Equal((1.0, 1.0), StoryRequests.InclusionRates(requests, requests.Select(r => r.Story).ToList()));
        Assert.Equal(requests.Select(r => r.Prompt), StoryRequests.Build(Corpus.Train, AllStories).Select(r => r.Prompt));
        Assert.Equal(0, StoryRequests.Included(requests[0].Words, "Nothing requested here."));
    }

    [Fact]
    public void Hero_requests_ask_for_the_hero_of_their_real_story_and_the_splits_are_balanced()
    {
        var stories = HeroStories.Load(HeroStories.BundledPath);
        Assert.Equal((250, 40, 60), (stories.Train.Count, stories.Validation.Count, stories.Test.Count));
        Assert.Empty(stories.All.Intersect(Corpus.General));                          // the forgetting check stays held out
        foreach (var split in new[] { stories.Train, stories.Validation, stories.Test })
            Assert.Equal(split.Count / 2, split.Count(s => HeroKinds.Of(s) == HeroKind.Animal)); // animal, child, animal, ...
        Assert.All(stories.All, s => Assert.NotEqual(HeroKind.Neither, HeroKinds.Of(s)));

        var requests = HeroRequests.Build(stories.Test, stories.All);
        Assert.InRange(requests.Count, 56, 60);
        foreach (var r in requests)
        {
            Assert.StartsWith($"Write a story about {(r.Hero == HeroKind.Animal ? "an animal" : "a child")} that uses the words ", r.Prompt, StringComparison.Ordinal);
            Assert.Equal(3, StoryRequests.Included(r.Words, r.Story));
            Assert.DoesNotContain(r.Words, HeroKinds.All.Contains);                      // no requested word gives the hero away
        }
        Assert.Equal(requests.Select(r => r.Prompt), HeroRequests.Build(stories.Test, stories.All).Select(r => r.Prompt));

        var references = HeroRequests.Count(requests, requests.Select(r => r.Story).ToList());
        Assert.Equal(requests.Count, references.Followed);                             // the reference stories follow every request
        var alwaysCats = HeroRequests.Count(requests, requests.Select(_ => "Once there were two cats. Lily saw them.").ToList());
        Assert.Equal((references.AskedAnimal, references.AskedAnimal, references.AskedChild), (alwaysCats.Followed, alwaysCats.AnimalWhenAsked, alwaysCats.AnimalWhenChildAsked));
        Assert.Equal(HeroKind.Neither, HeroKinds.Of("A girl had a dog."));            // both kinds: neither
        Assert.Equal(HeroKind.Child, HeroKinds.Of("Two kids had been sad. The dog ran."));  // "been" is no bee; only the first sentence counts
    }

    [Fact]
    public void Lora_sft_on_requests_lowers_loss_and_the_story_perplexity_of_its_requests()
    {
        var ml = new MLContext(seed: 1);
        var train = StoryRequests.Build(Corpus.Train, AllStories).Take(24).ToList();
        var options = Tiny(StorySft.Options("tinystories-260k", epochs: 2, learningRate: 3e-3));
        using var fitted = ml.Transforms.LoraFineTune(options).Fit(StorySft.ToDataView(train));
        var history = fitted.TrainingReport!.State.History;
        Assert.Equal(2, history.Count);
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss, $"train loss {history[0].TrainLoss} -> {history[^1].TrainLoss}");

        // On 24 stories the adapter learns them (held-out stories need the demo's 120 and more: 24 overfit at once), so
        // this checks the evaluation path: adapters on vs off on the training requests.
        var generation = StorySft.Greedy(16);
        var seen = train.Take(6).ToList();
        var before = StorySft.Evaluate(fitted, "base", seen, Corpus.General.Take(4).ToList(), generation, disableAdapters: true);
        var after = StorySft.Evaluate(fitted, "LoRA", seen, Corpus.General.Take(4).ToList(), generation);
        Assert.True(after.StoryPerplexity < before.StoryPerplexity, $"story perplexity of the training requests {before.StoryPerplexity} -> {after.StoryPerplexity}");
        Assert.All(before.Stories.Concat(after.Stories), s => Assert.False(string.IsNullOrWhiteSpace(s)));
        Assert.InRange(before.GeneralPerplexity, 1.5, 20);                          // a pretrained model, not a random one (~512)
    }

    [Fact]
    public void Judge_scores_a_happy_story_above_a_sad_one()
    {
        using var judge = new StoryJudge();
        var scores = judge.Score([
            "Tom and his mom went to the park. They played with a big red ball and laughed all day. Tom was very happy and hugged his mom.",
            "Tom lost his dog in the rain. He looked everywhere, but the dog was gone. Tom sat alone and cried. He was very sad and scared.",
        ]);
        Assert.True(scores[0] > scores[1], $"happy {scores[0]} vs sad {scores[1]}");
        Assert.True(scores[0] > 0 && scores[1] < 0, $"happy {scores[0]} should be > 0 and sad {scores[1]} < 0");
    }

    [Fact]
    public void Judged_pairs_from_the_sft_model_train_dpo_to_a_larger_margin()
    {
        var ml = new MLContext(seed: 1);
        var train = StoryRequests.Build(Corpus.Train, AllStories).Take(8).ToList();
        using var dir = new TempDir();
        var adapter = Path.Combine(dir.Path, "sft");
        IReadOnlyList<PreferencePair> pairs;
        using var judge = new StoryJudge();
        using (var sft = ml.Transforms.LoraFineTune(Tiny(StorySft.Options("tinystories-260k", epochs: 1, learningRate: 1e-2))).Fit(StorySft.ToDataView(train)))
        {
            sft.SaveAdapter(adapter);
            pairs = StoryPreferences.Build(sft, judge, train.Take(6).ToList(), samples: 3, maxNewTokens: 32, seed: 5);
        }
        Assert.InRange(pairs.Count, 4, 6);
        Assert.All(pairs, p => Assert.True(p.ChosenScore > p.RejectedScore));
        Assert.All(pairs, p => Assert.NotEqual(p.Chosen, p.Rejected));

        var triples = pairs.Select(p => (p.Prompt, p.Chosen, p.Rejected)).ToList();
        var options = new DpoFineTuneOptions
        {
            Model = "tinystories-260k", AdapterPath = adapter, Beta = 0.1, Epochs = 4, LearningRate = 1e-2, BatchSize = 3, WarmupRatio = 0,
            PromptColumnName = StoryPreferences.PromptColumn, ChosenColumnName = StoryPreferences.ChosenColumn, RejectedColumnName = StoryPreferences.RejectedColumn,
            Data = StorySft.Data with { MaxLength = 96 },
        };
        using var dpo = ml.Transforms.DpoFineTune(options).Fit(StoryPreferences.ToDataView(pairs));
        using var sftAgain = FineTune.MLNet.Models.Llama.LlamaForCausalLM.FromPretrainedWithAdapter(
            FineTune.MLNet.Models.Pretrained.PretrainedDecoders.ResolveFolder("tinystories-260k"), adapter);
        var before = PreferenceScorer.Score(sftAgain, dpo.Tokenizer, options.Data, triples, options.Beta);
        var after = PreferenceScorer.Score(dpo.Model, dpo.Tokenizer, options.Data, triples, options.Beta);
        Assert.Equal(pairs.Count, after.Pairs);
        Assert.True(after.RewardsMargin > before.RewardsMargin + 0.05, $"reward margin {before.RewardsMargin} -> {after.RewardsMargin}");
        Assert.True(after.RewardsAccuracy >= 0.5, $"reward accuracy after DPO {after.RewardsAccuracy}");
    }

    /// <summary>The demo recipe on short sequences (stories cut to 96 tokens) so a run takes seconds.</summary>
    private static LoraFineTuneOptions Tiny(LoraFineTuneOptions o) => o with { Data = StorySft.Data with { MaxLength = 96 }, BatchSize = 4, WarmupRatio = 0 };
}
