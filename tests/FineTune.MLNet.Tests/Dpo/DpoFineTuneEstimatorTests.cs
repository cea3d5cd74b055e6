using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Sft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Dpo;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FineTune.MLNet.Tests.Dpo;

public sealed class DpoFineTuneEstimatorTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private sealed class PreferenceRow
    {
        public string Prompt { get; set; } = "";
        public string Chosen { get; set; } = "";
        public string Rejected { get; set; } = "";
    }

    private static readonly PreferenceRow[] Preferences =
    [
        new() { Prompt = "What colour is the robot?", Chosen = "blue", Rejected = "red" },
        new() { Prompt = "How many wheels?", Chosen = "six", Rejected = "two" },
        new() { Prompt = "Who built it?", Chosen = "Ada", Rejected = "Bob" },
        new() { Prompt = "Where is the office?", Chosen = "Lyon", Rejected = "Paris" },
    ];

    private static DpoFineTuneOptions Options(string model, List<DpoProgress>? sink = null) => new()
    {
        Model = model,
        Epochs = 60,
        BatchSize = 4,
        LearningRate = 1e-2,
        WarmupRatio = 0.05,
        Decay = LearningRateDecay.Cosine,
        Beta = 0.1,
        Seed = 5,
        Lora = new LoraSettings { Rank = 8, Alpha = 16, Dropout = 0, TargetModules = ["all-linear"] },
        Data = new SftDataOptions { MaxLength = 64 },
        Generation = new FineTune.MLNet.Generation.GenerationOptions { MaxNewTokens = 6 },
        DpoProgress = sink is null ? null : new SyncProgress<DpoProgress>(sink),
    };

    [Fact]
    public void DpoRaisesRewardAccuracyAndMarginAndLowersLoss()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Preferences);
        var progress = new List<DpoProgress>();
        var logged = new List<string>();
        ml.Log += (_, e) => { if (e.Message.Contains("rewards/margins")) logged.Add(e.Message); };
        using var fitted = ml.Transforms.DpoFineTune(Options(TinyLlamaFolder.Create(), progress), validationSet: data).Fit(data);

        var steps = progress.Where(p => !p.IsValidation).ToList();
        Assert.Equal(60, steps.Count);
        var first = steps[0].Metrics;
        var last = steps[^1].Metrics;
        output.WriteLine($"step 1: {first}\nstep {steps.Count}: {last}");
        AssertClose(Math.Log(2), first.Loss, atol: 1e-6, what: "step-1 loss");   // fresh adapters: policy = reference
        AssertClose(0, first.RewardsMargin, atol: 1e-6, what: "step-1 margin");
        Assert.True(last.Loss < 0.1 * first.Loss, $"loss {first.Loss:F4} -> {last.Loss:F4}");
        Assert.Equal(1.0, last.RewardsAccuracy);
        Assert.True(last.RewardsMargin > 1, $"margin {last.RewardsMargin}");
        Assert.True(last.RewardsChosen > last.RewardsRejected);

        // Monitored: every step's margin reached the ML.NET log, and the history is on the transformer with validation passes.
        Assert.True(logged.Count >= 60, $"{logged.Count} DPO log lines");
        Assert.Equal(progress, fitted.DpoHistory);
        var validation = fitted.DpoHistory.Where(p => p.IsValidation).ToList();
        Assert.Equal(60, validation.Count);
        Assert.Equal(1.0, validation[^1].Metrics.RewardsAccuracy);
        Assert.Equal(fitted.TrainingReport!.State.History[^1].ValidationAccuracy, validation[^1].Metrics.RewardsAccuracy);
    }

    [Fact]
    public void DpoFromAnSftAdapterTrainedOnBothAnswersMakesGreedyGenerationAnswerChosen()
    {
        var ml = new MLContext(seed: 1);
        var model = TinyLlamaFolder.Create();
        var data = ml.Data.LoadFromEnumerable(Preferences);
        // SFT on both answers of every prompt: the model learns the two candidates, with no preference between them.
        var sftRows = ml.Data.LoadFromEnumerable(Preferences.SelectMany(p => new[] { new { p.Prompt, Response = p.Chosen }, new { p.Prompt, Response = p.Rejected } }).ToArray());
        using var adapterTemp = new TempDir("dpo-sft");
        var adapter = Path.Combine(adapterTemp.Path, "dpo-sft");
        using (var sft = ml.Transforms.LoraFineTune(new LoraFineTuneOptions
               {
                   Model = model, Epochs = 100, BatchSize = 8, LearningRate = 1e-2, WarmupRatio = 0.05, Seed = 5,
                   Lora = new LoraSettings { Rank = 8, Alpha = 16, Dropout = 0, TargetModules = ["all-linear"] },
                   Data = new SftDataOptions { MaxLength = 64 },
                   Generation = new FineTune.MLNet.Generation.GenerationOptions { MaxNewTokens = 6 },
               }).Fit(sftRows))
        {
            var before = sft.Transform(data).GetColumn<string>("Generated").ToArray();
            Assert.All(before.Zip(Preferences), x => Assert.Contains(x.First, new[] { x.Second.Chosen, x.Second.Rejected }));
            Assert.Contains(before.Zip(Preferences), x => x.First == x.Second.Rejected);
            sft.SaveAdapter(adapter);
        }

        var progress = new List<DpoProgress>();
        using var dpo = ml.Transforms.DpoFineTune(Options(model, progress) with { AdapterPath = adapter, Epochs = 10, LearningRate = 2e-3 }).Fit(data);
        var steps = progress.Where(p => !p.IsValidation).ToList();
        Assert.Equal(1.0, steps[^1].Metrics.RewardsAccuracy);
        Assert.True(steps[^1].Metrics.RewardsMargin > 0);
        Assert.Equal(Preferences.Select(p => p.Chosen), dpo.Transform(data).GetColumn<string>("Generated").ToArray());
    }

    [Theory]
    [InlineData("Chosen", "Liked")]
    [InlineData("Rejected", "Disliked")]
    [InlineData("Prompt", "Question")]
    public void MissingColumnIsNamed(string role, string column)
    {
        var ml = new MLContext(seed: 1);
        var options = role switch
        {
            "Chosen" => Options("unused") with { ChosenColumnName = column },
            "Rejected" => Options("unused") with { RejectedColumnName = column },
            _ => Options("unused") with { PromptColumnName = column },
        };
        var e = Assert.ThrowsAny<ArgumentException>(() => ml.Transforms.DpoFineTune(options).Fit(ml.Data.LoadFromEnumerable(Preferences)));
        Assert.Contains($"{role} column '{column}'", e.Message);
    }

    [Fact]
    public void NonTextColumnAndBadOptionsAreNamed()
    {
        var ml = new MLContext(seed: 1);
        var rows = ml.Data.LoadFromEnumerable(new[] { new { Prompt = "a", Chosen = "b", Rejected = 3f } });
        var e = Assert.ThrowsAny<ArgumentException>(() => ml.Transforms.DpoFineTune(Options("unused")).Fit(rows));
        Assert.Contains("Rejected column 'Rejected' must be of type String", e.Message);

        Assert.Equal("Beta", Assert.ThrowsAny<ArgumentException>(() => ml.Transforms.DpoFineTune(Options("m") with { Beta = 0 })).ParamName);
        Assert.Equal("ChosenColumnName", Assert.ThrowsAny<ArgumentException>(() => ml.Transforms.DpoFineTune(Options("m") with { ChosenColumnName = "Rejected" })).ParamName);
        Assert.Equal("AdapterPath", Assert.ThrowsAny<ArgumentException>(() => ml.Transforms.DpoFineTune(Options("m") with { AdapterPath = "/nonexistent" })).ParamName);
    }

    private sealed class SyncProgress<T>(List<T> sink) : IProgress<T>
    {
        public void Report(T value) => sink.Add(value);
    }
}
