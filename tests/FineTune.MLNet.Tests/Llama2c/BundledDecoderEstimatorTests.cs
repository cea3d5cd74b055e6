using System.Text.Json;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FineTune.MLNet.Tests.Llama2c;

/// <summary>
/// <c>Model = "tinystories-260k"</c> in the SFT and DPO estimators: they train the bundled model offline, and a saved
/// SFT transformer records the name (not a cache path), so it reloads with identical answers.
/// </summary>
public sealed class BundledDecoderEstimatorTests
{
    private sealed class QaRow { public string Prompt { get; set; } = ""; public string Response { get; set; } = ""; }

    private sealed class PreferenceRow { public string Prompt { get; set; } = ""; public string Chosen { get; set; } = ""; public string Rejected { get; set; } = ""; }

    [Fact]
    public void Sft_by_name_learns_and_the_saved_transformer_reloads_by_name()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[]
        {
            new QaRow { Prompt = "Who has a red ball?", Response = "Tom has a red ball." },
            new QaRow { Prompt = "Where is the cat?", Response = "The cat is in the garden." },
        });
        var options = new LoraFineTuneOptions
        {
            Model = "tinystories-260k", Epochs = 40, BatchSize = 2, LearningRate = 2e-2, WarmupRatio = 0, Seed = 3,
            Lora = new LoraSettings { Rank = 8, Alpha = 16, Dropout = 0, TargetModules = ["all-linear"] },
            Generation = new FineTune.MLNet.Generation.GenerationOptions { MaxNewTokens = 12 },
        };
        var fitted = ml.Transforms.LoraFineTune(options).Fit(data);
        var answers = fitted.Transform(data).GetColumn<string>("Generated").ToArray();
        Assert.StartsWith("Tom has a red ball", answers[0].Trim());                  // the untuned model answers neither
        Assert.StartsWith("The cat is in the garden", answers[1].Trim());

        using var dir = new TempDir();
        var saved = Path.Combine(dir.Path, "sft");
        fitted.Save(saved);
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(saved, "lora_finetune.json"))))
            Assert.Equal("tinystories-260k", manifest.RootElement.GetProperty("base_model").GetString());
        var reloaded = LoraFineTuneTransformer.Load(saved);
        Assert.Equal(answers, reloaded.Transform(data).GetColumn<string>("Generated").ToArray());
    }

    [Fact]
    public void Dpo_by_name_trains_with_a_finite_reward_margin()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[]
        {
            new PreferenceRow { Prompt = "The dog was", Chosen = " happy.", Rejected = " sad." },
            new PreferenceRow { Prompt = "Lily felt", Chosen = " glad.", Rejected = " angry." },
        });
        var options = new DpoFineTuneOptions
        {
            Model = "tinystories-260k", Epochs = 5, BatchSize = 2, LearningRate = 1e-2, WarmupRatio = 0, Seed = 5, Beta = 0.1,
            Lora = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0, TargetModules = ["all-linear"] },
        };
        var fitted = ml.Transforms.DpoFineTune(options).Fit(data);
        var train = fitted.DpoHistory.Where(h => !h.IsValidation).ToList();
        Assert.NotEmpty(train);
        Assert.All(train, h => Assert.True(double.IsFinite(h.Metrics.RewardsMargin)));
        Assert.True(train[^1].Metrics.RewardsMargin > 0, $"final reward margin {train[^1].Metrics.RewardsMargin}");
    }
}
