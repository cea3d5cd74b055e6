using FineTune.MLNet.Estimators;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;
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
    public void Hero_requests_ask_for_the_hero_their_real_story_opens_with_and_the_held_out_set_is_balanced()
    {
        var stories = OpeningStories.Load(OpeningStories.BundledPath);
        Assert.Equal((561, 40, 60), (stories.Train.Count, stories.Validation.Count, stories.Test.Count));
        var all = stories.Train.Concat(stories.Validation).Concat(stories.Test).ToList();
        Assert.Empty(all.Select(s => s.Story).Intersect(Corpus.General));             // the forgetting check stays held out
        Assert.All(all, s => Assert.StartsWith("Once upon a time", s.Story, StringComparison.Ordinal));
        Assert.All(stories.Validation.Concat(stories.Test), s => Assert.StartsWith(HeroRequests.Opening + " a", s.Story, StringComparison.Ordinal));

        var test = HeroRequests.Build(stories.Test);
        var references = HeroRequests.Count(test, test.Select(r => r.Story).ToList(), stories.TrainingHeroes);
        Assert.Equal((6 + 4, 35, 15), (references.GirlBoy.Total, references.Seen.Total, references.Unseen.Total));
        Assert.Equal(test.Count, references.Named);                                   // every real story names its hero in sentence 1
        Assert.InRange(references.NamedAgain, 40, 50);                               // the others go on with the hero's name (Lily, Beep)
        Assert.Equal("Write a story about a dog.", HeroRequests.Prompt("dog"));
        Assert.Equal("Write a story about an elephant.", HeroRequests.Prompt("elephant"));

        // A model that ignores the request and always writes a little girl follows exactly the girl requests.
        var alwaysGirl = HeroRequests.Count(test, test.Select(_ => " a little girl named Lily. Lily had a dog.").ToList(), stories.TrainingHeroes);
        Assert.Equal((6, 0, 0, 0), (alwaysGirl.GirlBoy.Named, alwaysGirl.Seen.Named, alwaysGirl.Unseen.Named, alwaysGirl.NamedAgain));
        Assert.Equal((true, true), HeroRequests.Follows("fox", " two foxes. The fox ran."));
        Assert.Equal((false, true), HeroRequests.Follows("dog", " a girl. She had a dog."));      // only sentence 1 names the hero
        Assert.Equal((false, false), HeroRequests.Follows("cat", " a catapult."));                // whole words
    }

    [Fact]
    public void The_evaluation_prompt_is_the_training_example_cut_after_the_opening()
    {
        var ml = new MLContext(seed: 1);
        var stories = OpeningStories.Load(OpeningStories.BundledPath);
        var options = StorySft.Options("tinystories-260k", epochs: 1, learningRate: 1e-3, separator: HeroRequests.Separator, maxLength: 64, appendEos: false) with { BatchSize = 4 };
        var builder = new SftExampleBuilder(HfTokenizer.FromFolder(PretrainedDecoders.ResolveFolder("tinystories-260k")), options.Data);
        var request = HeroRequests.Build(stories.Test, builder)[^1];
        var uncut = HeroRequests.Build(stories.Test)[^1];
        Assert.StartsWith(request.Story, uncut.Story, StringComparison.Ordinal);
        Assert.False(builder.FromPair(request.Prompt, request.Story).Truncated);      // cut to fit: the request stays in the example
        var nextWord = uncut.Story.IndexOf(' ', request.Story.Length + 1);
        Assert.True(builder.FromPair(request.Prompt, uncut.Story[..nextWord]).Truncated, "one more word does not fit");
        // Uncut, the 64-token example keeps the story and loses the request (SFT truncation drops the context first).
        var requestIds = builder.FromPair(request.Prompt, request.Story).InputIds[..8];
        Assert.NotEqual(requestIds, builder.FromPair(uncut.Prompt, uncut.Story).InputIds[..8]);
        using var fitted = ml.Transforms.LoraFineTune(options).Fit(StorySft.ToDataView(HeroRequests.Build(stories.Train.Take(4).ToList(), builder)));
        var training = builder.FromPair(request.Prompt, request.Story).InputIds;
        var prompt = StorySft.OpeningIds(builder, fitted.Tokenizer.EosId, request.Prompt, HeroRequests.Opening);
        Assert.True(request.Story.StartsWith(HeroRequests.Opening, StringComparison.Ordinal), request.Story[..40]);
        Assert.Equal(training[..prompt.Length], prompt);                               // the same tokens as in training
        Assert.Equal(fitted.PromptIds(request.Prompt), prompt[..fitted.PromptIds(request.Prompt).Length]);
        Assert.True(prompt.Length > fitted.PromptIds(request.Prompt).Length + 4, "the opening adds its tokens");

        var scores = StorySft.Evaluate(fitted, "base", [request], Corpus.General.Take(2).ToList(), StorySft.Greedy(12), disableAdapters: true, opening: HeroRequests.Opening);
        Assert.Contains("girl", scores.Stories[0], StringComparison.Ordinal);         // the base writes its little girl
        Assert.InRange(scores.GeneralPerplexity, 1.5, 20);
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
