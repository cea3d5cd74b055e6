using FineTune.MLNet.Metrics;

namespace FineTune.MLNet.Evaluation;

/// <summary>Mean negative log-likelihood (nats per token) over <paramref name="TokenCount"/> scored tokens.</summary>
/// <param name="MeanNll">Summed NLL divided by the token count.</param>
/// <param name="TokenCount">Tokens that carried loss (after the causal shift).</param>
public sealed record PerplexityResult(double MeanNll, long TokenCount)
{
    /// <summary><c>exp(MeanNll)</c>.</summary>
    public double Perplexity => GenerationMetrics.Perplexity(MeanNll);
}

/// <summary>Greedy (or configured) answers to held-out questions and their scores against the references.</summary>
/// <param name="Scores">Mean exact match, token F1 and ROUGE-L.</param>
/// <param name="Predictions">The generated answers (trimmed), in question order.</param>
public sealed record GenerationEvaluation(GenerationScores Scores, IReadOnlyList<string> Predictions);

/// <summary>One question with its reference answer.</summary>
public sealed record QuestionAnswer(string Question, string Reference);

/// <summary>What <see cref="SftEvaluator.Evaluate"/> measures; each part is skipped when null.</summary>
public sealed record SftEvaluationSets
{
    /// <summary>Prompt/response pairs scored by perplexity of the response tokens (e.g. a validation set).</summary>
    public IReadOnlyList<(string Prompt, string Response)>? PerplexityPairs { get; init; }

    /// <summary>Held-out questions answered by generation and scored with EM / token F1 / ROUGE-L.</summary>
    public IReadOnlyList<QuestionAnswer>? QuestionAnswers { get; init; }

    /// <summary>Plain text lines scored by perplexity over all their tokens (a forgetting check).</summary>
    public IReadOnlyList<string>? GeneralText { get; init; }
}

/// <summary>The numbers of one <see cref="SftEvaluator.Evaluate"/> call; a part is null when its set was not given.</summary>
/// <param name="Perplexity">Perplexity of the response tokens of <see cref="SftEvaluationSets.PerplexityPairs"/>.</param>
/// <param name="Generation">Generation metrics on <see cref="SftEvaluationSets.QuestionAnswers"/>.</param>
/// <param name="GeneralText">Perplexity of <see cref="SftEvaluationSets.GeneralText"/>.</param>
/// <param name="AdaptersDisabled">True when the numbers are the base model's (adapters bypassed).</param>
public sealed record SftEvaluation(PerplexityResult? Perplexity, GenerationEvaluation? Generation, PerplexityResult? GeneralText, bool AdaptersDisabled);
