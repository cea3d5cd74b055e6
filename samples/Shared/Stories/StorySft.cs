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
    /// <paramref name="maxLength"/> tokens (prompt and story); <paramref name="separator"/> between request and story.</summary>
    public static LoraFineTuneOptions Options(string model, int epochs, double learningRate, bool qlora = false, int? patience = null,
        IProgress<TrainingProgress>? progress = null, int rank = 8, int maxLength = 128, string separator = StoryRequests.Separator) => new()
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
        Data = Data with { MaxLength = maxLength, Separator = separator },
        Generation = Greedy(80),
        InferenceBatchSize = 20,
        Progress = progress,
    };

    /// <summary>Greedy decoding that stops at EOS or at the BOS that starts a new story (llama2.c models emit BOS between stories).</summary>
    public static GenerationOptions Greedy(int maxNewTokens) => new() { MaxNewTokens = maxNewTokens, EosTokenIds = [2, 1] };

    public static IDataView ToDataView(IReadOnlyList<IStoryRequest> requests) =>
        new InMemoryTextDataView([PromptColumn, StoryColumn], [requests.Select(r => r.Prompt).ToArray(), requests.Select(r => r.Story).ToArray()]);

    /// <summary>Scores a fitted model (its base when <paramref name="disableAdapters"/>) on held-out requests and plain stories.</summary>
    public static StoryScores Evaluate(LoraFineTuneTransformer fitted, string label, IReadOnlyList<IStoryRequest> test, IReadOnlyList<string> general,
        GenerationOptions generation, bool disableAdapters = false)
    {
        var evaluator = new SftEvaluator(fitted.Model, fitted.Tokenizer, new SftExampleBuilder(fitted.Tokenizer, fitted.Settings.Data), batchSize: 20);
        var sets = new SftEvaluationSets
        {
            PerplexityPairs = test.Select(r => (r.Prompt, r.Story)).ToList(),
            QuestionAnswers = test.Select(r => new QuestionAnswer(r.Prompt, r.Story)).ToList(),
            GeneralText = general,
        };
        var e = evaluator.Evaluate(sets, generation, disableAdapters);
        return new StoryScores(label, e.Perplexity!.Perplexity, e.GeneralText!.Perplexity, e.Generation!.Scores.RougeL, e.Generation.Predictions);
    }
}

/// <summary>One row of the comparison table: perplexities and the greedy stories (the task metric is the caller's).</summary>
public sealed record StoryScores(string Label, double StoryPerplexity, double GeneralPerplexity, double RougeL, IReadOnlyList<string> Stories);
