using FineTune.MLNet.Data;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Evaluation;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;
using FineTune.MLNet.Transformers;
using Microsoft.ML;

/// <summary>
/// The story-request SFT recipe the demos and the smoke test share: the prompt format, the LoRA options, and the
/// evaluation (greedy stories for the task metric, perplexity of the reference stories given their requests,
/// perplexity of plain held-out stories).
/// </summary>
public static class StorySft
{
    public const string PromptColumn = "request";
    public const string StoryColumn = "story";

    /// <summary>Plain prompt "Request: ...\nStory: " (no chat template: the base model has none); loss on the story only,
    /// cut to 128 tokens (the requested words are in its opening; keeps a 2-core run short).</summary>
    public static SftDataOptions Data { get; } = new() { MaxLength = 128, UseChatTemplate = false, Separator = StoryRequests.Separator };

    /// <summary>LoRA r=8 on every linear layer of the decoder (QLoRA when <paramref name="qlora"/>); sequences cut to
    /// <paramref name="maxLength"/> tokens (prompt and story); <paramref name="separator"/> between request and story; no
    /// EOS after the story when <paramref name="appendEos"/> is false (stories cut to fit, which do not end there).</summary>
    public static LoraFineTuneOptions Options(string model, int epochs, double learningRate, bool qlora = false, int? patience = null,
        IProgress<TrainingProgress>? progress = null, int rank = 8, int maxLength = 128, string separator = StoryRequests.Separator, bool appendEos = true) => new()
    {
        Model = model,
        PromptColumnName = PromptColumn,
        ResponseColumnName = StoryColumn,
        OutputColumnName = "generated_story",
        Lora = new LoraSettings { Rank = rank, Alpha = 2 * rank, Dropout = 0.0, TargetModules = ["all-linear"], QuantizeBase = qlora },
        Epochs = epochs,
        LearningRate = learningRate,
        BatchSize = 8,
        WarmupRatio = 0.05,
        EarlyStoppingPatience = patience,
        Seed = 42,
        Data = Data with { MaxLength = maxLength, Separator = separator, AppendEos = appendEos },
        Generation = Greedy(80),
        InferenceBatchSize = 20,
        Progress = progress,
    };

    /// <summary>Greedy decoding that stops at EOS or at the BOS that starts a new story (llama2.c models emit BOS between stories).</summary>
    public static GenerationOptions Greedy(int maxNewTokens) => new() { MaxNewTokens = maxNewTokens, EosTokenIds = [2, 1] };

    public static IDataView ToDataView(IReadOnlyList<IStoryRequest> requests) =>
        new InMemoryTextDataView([PromptColumn, StoryColumn], [requests.Select(r => r.Prompt).ToArray(), requests.Select(r => r.Story).ToArray()]);

    /// <summary>Scores a fitted model (its base when <paramref name="disableAdapters"/>) on held-out requests and plain
    /// stories. The greedy stories answer the request alone, or, with <paramref name="opening"/>, continue the request
    /// and the first words of the story (as in training: see <see cref="OpeningIds"/>).</summary>
    public static StoryScores Evaluate(LoraFineTuneTransformer fitted, string label, IReadOnlyList<IStoryRequest> test, IReadOnlyList<string> general,
        GenerationOptions generation, bool disableAdapters = false, string? opening = null)
    {
        var builder = new SftExampleBuilder(fitted.Tokenizer, fitted.Settings.Data);
        var evaluator = new SftEvaluator(fitted.Model, fitted.Tokenizer, builder, batchSize: 20);
        var sets = new SftEvaluationSets
        {
            PerplexityPairs = test.Select(r => (r.Prompt, r.Story)).ToList(),
            QuestionAnswers = opening is null ? test.Select(r => new QuestionAnswer(r.Prompt, r.Story)).ToList() : null,
            GeneralText = general,
        };
        var e = evaluator.Evaluate(sets, generation, disableAdapters);
        if (opening is null)
            return new StoryScores(label, e.Perplexity!.Perplexity, e.GeneralText!.Perplexity, e.Generation!.Scores.RougeL, e.Generation.Predictions);
        using var adapters = disableAdapters ? fitted.Model.DisableAdapters() : null;
        var ids = test.Select(r => (IReadOnlyList<int>)OpeningIds(builder, fitted.Tokenizer.EosId, r.Prompt, opening)).ToList();
        var continuations = fitted.Generator.GenerateFromIds(ids, generation).Select(g => g.Text).ToList();
        return new StoryScores(label, e.Perplexity!.Perplexity, e.GeneralText!.Perplexity, double.NaN, continuations);
    }

    /// <summary>The token ids of a training example whose story is just <paramref name="opening"/> (request, separator,
    /// opening encoded as the story is in training; without the appended EOS), so generation continues the opening
    /// exactly where a training story goes on.</summary>
    public static int[] OpeningIds(SftExampleBuilder builder, int? eos, string prompt, string opening)
    {
        var ids = builder.FromPair(prompt, opening).InputIds;
        return ids.Length > 0 && ids[^1] == eos ? ids[..^1] : ids;
    }
}

/// <summary>One row of the comparison table: perplexities and the greedy stories (the task metric is the caller's).</summary>
public sealed record StoryScores(string Label, double StoryPerplexity, double GeneralPerplexity, double RougeL, IReadOnlyList<string> Stories);
