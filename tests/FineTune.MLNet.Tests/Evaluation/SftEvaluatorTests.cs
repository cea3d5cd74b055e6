using FineTune.MLNet.Estimators;
using FineTune.MLNet.Evaluation;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Sft;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Evaluation;

public sealed class SftEvaluatorTests
{
    private static readonly (string Prompt, string Response)[] Facts =
    [
        ("What colour is the robot?", "blue"),
        ("How many wheels?", "six wheels"),
        ("Who built it?", "Ada"),
        ("Where is the office?", "in Lyon"),
    ];

    private static readonly string[] GeneralText =
    [
        "The weather was mild for the season, and the market opened early.",
        "Numbers: 3, 14, 159.",
        "   ",
        "A short line.",
    ];

    /// <summary>Mean NLL of the labelled tokens, one unpadded sequence at a time, with log_softmax and a host-side gather.</summary>
    private static (double MeanNll, long Count) ReferenceNll(LlamaForCausalLM model, IEnumerable<(int[] Ids, int[] Labels)> sequences)
    {
        double sum = 0;
        long count = 0;
        using var _ = no_grad();
        foreach (var (ids, labels) in sequences)
        {
            using var scope = NewDisposeScope();
            var logits = model.Forward(tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length], ScalarType.Int64));   // (1, T, V)
            var logProbs = logits[0].to_type(ScalarType.Float64).log_softmax(-1);                                         // (T, V)
            long v = logProbs.shape[1];
            var flat = logProbs.data<double>().ToArray();
            for (int t = 1; t < ids.Length; t++)
            {
                if (labels[t] == CausalLmLoss.IgnoreIndex) continue;
                sum -= flat[(t - 1) * v + labels[t]];
                count++;
            }
        }
        return (sum / count, count);
    }

    [Fact]
    public void PerplexityIsExpOfTheMeanNllOfTheLogits()
    {
        var folder = TinyLlamaFolder.Create(seed: 3);
        using var model = LlamaForCausalLM.FromPretrained(folder);
        var tokenizer = HfTokenizer.FromFolder(folder);
        var builder = new SftExampleBuilder(tokenizer, new SftDataOptions { MaxLength = 64 });
        var evaluator = new SftEvaluator(model, tokenizer, builder, batchSize: 3);   // 4 examples: a padded batch of 3, then 1
        model.train();

        var examples = builder.BuildFromPairs(Facts).Examples;
        var result = evaluator.Perplexity(examples);
        Assert.True(model.training);   // the evaluator's eval mode is undone
        model.eval();
        var (meanNll, count) = ReferenceNll(model, examples.Select(e => (e.InputIds, e.Labels)));
        Assert.Equal(count, result.TokenCount);
        Assert.Equal(examples.Sum(e => e.SupervisedTokenCount), result.TokenCount);
        Assert.True(Math.Abs(result.MeanNll - meanNll) < 1e-5, $"{result.MeanNll} vs {meanNll}");
        Assert.Equal(Math.Exp(meanNll), result.Perplexity, 1e-4 * Math.Exp(meanNll));

        // General text: BOS + every token of each non-blank line is scored.
        var lines = GeneralText.Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => tokenizer.Encode(l).ToArray()).ToList();
        Assert.All(lines, ids => Assert.Equal(tokenizer.BosId, ids[0]));
        var general = evaluator.GeneralTextPerplexity(GeneralText);
        var (generalNll, generalCount) = ReferenceNll(model, lines.Select(ids => (ids, ids.Select((id, t) => t == 0 ? CausalLmLoss.IgnoreIndex : id).ToArray())));
        Assert.Equal(lines.Sum(ids => ids.Length - 1), general.TokenCount);
        Assert.Equal(generalCount, general.TokenCount);
        Assert.True(Math.Abs(general.MeanNll - generalNll) < 1e-5, $"{general.MeanNll} vs {generalNll}");
    }

    [Fact]
    public void EmptySetsFailClearly()
    {
        var folder = TinyLlamaFolder.Create(seed: 4);
        using var model = LlamaForCausalLM.FromPretrained(folder);
        var tokenizer = HfTokenizer.FromFolder(folder);
        var evaluator = new SftEvaluator(model, tokenizer, new SftExampleBuilder(tokenizer));
        var e = Assert.Throws<InvalidDataException>(() => evaluator.GeneralTextPerplexity(["", "  "]));
        Assert.Contains("general-text", e.Message);
    }

    [Fact]
    public void TunedModelAnswersPerfectlyAndTheBaseModelDoesNot()
    {
        var ml = new MLContext(seed: 1);
        var folder = TinyLlamaFolder.Create();
        var options = new LoraFineTuneOptions
        {
            Model = folder, Epochs = 30, BatchSize = 4, LearningRate = 1e-2, WarmupRatio = 0.05, Decay = LearningRateDecay.Cosine,
            MaxGradNorm = 1.0, Seed = 5, Data = new SftDataOptions { MaxLength = 64 },
            Lora = new LoraSettings { Rank = 8, Alpha = 16, Dropout = 0, TargetModules = ["all-linear"] },
        };
        var data = ml.Data.LoadFromEnumerable(Facts.Select(f => new Row { Prompt = f.Prompt, Response = f.Response }));
        using var fitted = ml.Transforms.LoraFineTune(options).Fit(data);
        var evaluator = new SftEvaluator(fitted.Model, fitted.Tokenizer, new SftExampleBuilder(fitted.Tokenizer, options.Data), batchSize: 4);
        var sets = new SftEvaluationSets
        {
            PerplexityPairs = Facts,
            QuestionAnswers = [.. Facts.Select(f => new QuestionAnswer(f.Prompt, f.Response))],
            GeneralText = GeneralText,
        };
        var generation = new GenerationOptions { MaxNewTokens = 8 };

        var tuned = evaluator.Evaluate(sets, generation);
        var baseline = evaluator.Evaluate(sets, generation, disableAdapters: true);
        var again = evaluator.Evaluate(sets, generation);

        Assert.Equal(Facts.Select(f => f.Response), tuned.Generation!.Predictions);
        Assert.Equal((1.0, 1.0, 1.0), (tuned.Generation.Scores.ExactMatch, tuned.Generation.Scores.F1, tuned.Generation.Scores.RougeL));
        Assert.True(tuned.Perplexity!.Perplexity < 1.1, $"tuned perplexity {tuned.Perplexity.Perplexity}");

        Assert.True(baseline.AdaptersDisabled);
        Assert.True(baseline.Generation!.Scores.ExactMatch < 1, string.Join(" | ", baseline.Generation.Predictions));
        Assert.True(baseline.Perplexity!.Perplexity > 10 * tuned.Perplexity.Perplexity, $"base {baseline.Perplexity.Perplexity} vs tuned {tuned.Perplexity.Perplexity}");
        Assert.NotEqual(tuned.GeneralText!.MeanNll, baseline.GeneralText!.MeanNll);

        // The base numbers are the base checkpoint's, and disabling is scoped: the tuned numbers come back.
        using var plain = LlamaForCausalLM.FromPretrained(folder);
        var plainEvaluator = new SftEvaluator(plain, fitted.Tokenizer, new SftExampleBuilder(fitted.Tokenizer, options.Data));
        Assert.Equal(plainEvaluator.GeneralTextPerplexity(GeneralText).MeanNll, baseline.GeneralText.MeanNll, 1e-5);
        Assert.Equal(tuned.Perplexity.MeanNll, again.Perplexity!.MeanNll, 1e-9);
        Assert.Equal(tuned.Generation.Predictions, again.Generation!.Predictions);
    }

    private sealed class Row
    {
        public string Prompt { get; set; } = "";
        public string Response { get; set; } = "";
    }
}
