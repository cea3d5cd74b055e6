namespace FineTune.MLNet.Metrics;

/// <summary>
/// Metrics of generated text against references: SQuAD exact match and token F1, ROUGE-L, and perplexity.
/// </summary>
/// <remarks>
/// <para>Exact match and F1 follow the official SQuAD v2.0 evaluation script: both texts are normalized
/// (lowercase, no punctuation, no a / an / the, single spaces); F1 is over the bag of normalized tokens; when
/// either side has no tokens, F1 is 1 if both are empty and 0 otherwise. With several references the best one
/// counts (<c>metric_max_over_ground_truths</c>).</para>
/// <para>ROUGE-L is the F-measure of Google's <c>rouge-score</c> package (<c>RougeScorer(["rougeL"])</c>, no
/// stemming): longest common subsequence over its tokens (<see cref="RougeScoreTokenizer"/>), precision = LCS /
/// prediction tokens, recall = LCS / reference tokens, F = 2PR / (P + R); 0 when either side has no tokens; with
/// several references the highest F-measure (<c>score_multi</c>).</para>
/// </remarks>
public static class GenerationMetrics
{
    /// <summary>1 if the normalized texts are equal, else 0.</summary>
    public static double ExactMatch(string prediction, string reference)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(reference);
        return SquadAnswerNormalizer.Normalize(prediction) == SquadAnswerNormalizer.Normalize(reference) ? 1 : 0;
    }

    /// <summary>Best <see cref="ExactMatch(string, string)"/> over <paramref name="references"/>.</summary>
    public static double ExactMatch(string prediction, IReadOnlyList<string> references) =>
        MaxOver(references, r => ExactMatch(prediction, r));

    /// <summary>SQuAD token F1 of the normalized texts.</summary>
    public static double TokenF1(string prediction, string reference)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(reference);
        var predicted = SquadAnswerNormalizer.NormalizedTokens(prediction);
        var gold = SquadAnswerNormalizer.NormalizedTokens(reference);
        if (predicted.Length == 0 || gold.Length == 0) return predicted.Length == gold.Length ? 1 : 0;
        var goldCounts = gold.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        int same = 0;
        foreach (var token in predicted)
        {
            if (goldCounts.TryGetValue(token, out int left) && left > 0)
            {
                goldCounts[token] = left - 1;
                same++;
            }
        }
        if (same == 0) return 0;
        double precision = (double)same / predicted.Length;
        double recall = (double)same / gold.Length;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>Best <see cref="TokenF1(string, string)"/> over <paramref name="references"/>.</summary>
    public static double TokenF1(string prediction, IReadOnlyList<string> references) =>
        MaxOver(references, r => TokenF1(prediction, r));

    /// <summary>ROUGE-L F-measure (see the class remarks).</summary>
    public static double RougeL(string prediction, string reference)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(reference);
        var predicted = RougeScoreTokenizer.Tokenize(prediction);
        var target = RougeScoreTokenizer.Tokenize(reference);
        if (predicted.Count == 0 || target.Count == 0) return 0;
        int lcs = LongestCommonSubsequence(target, predicted);
        double precision = (double)lcs / predicted.Count;
        double recall = (double)lcs / target.Count;
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
    }

    /// <summary>Best <see cref="RougeL(string, string)"/> over <paramref name="references"/>.</summary>
    public static double RougeL(string prediction, IReadOnlyList<string> references) =>
        MaxOver(references, r => RougeL(prediction, r));

    /// <summary>Perplexity <c>exp(meanNll)</c> from the mean negative log-likelihood per token, in nats.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The mean is negative, NaN or infinite.</exception>
    public static double Perplexity(double meanNll)
    {
        if (!double.IsFinite(meanNll) || meanNll < 0)
            throw new ArgumentOutOfRangeException(nameof(meanNll), meanNll, "The mean negative log-likelihood must be a finite number >= 0 (nats per token).");
        return Math.Exp(meanNll);
    }

    /// <summary>Perplexity from a summed negative log-likelihood (nats) over <paramref name="tokenCount"/> tokens.</summary>
    public static double Perplexity(double totalNll, long tokenCount)
    {
        if (tokenCount <= 0) throw new ArgumentOutOfRangeException(nameof(tokenCount), tokenCount, "Perplexity needs at least one token.");
        return Perplexity(totalNll / tokenCount);
    }

    /// <summary>Mean exact match, F1 and ROUGE-L over paired predictions and references.</summary>
    public static GenerationScores Evaluate(IReadOnlyList<string> predictions, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(references);
        return Evaluate(predictions, references.Select(r => (IReadOnlyList<string>)[r]).ToList());
    }

    /// <summary>Mean exact match, F1 and ROUGE-L, each example scored against its best reference.</summary>
    /// <exception cref="ArgumentException">The lists differ in length or are empty, or an example has no reference.</exception>
    public static GenerationScores Evaluate(IReadOnlyList<string> predictions, IReadOnlyList<IReadOnlyList<string>> references)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(references);
        if (predictions.Count != references.Count)
            throw new ArgumentException($"There are {predictions.Count} predictions but {references.Count} references.", nameof(references));
        if (predictions.Count == 0) throw new ArgumentException("Cannot score zero predictions.", nameof(predictions));
        double em = 0, f1 = 0, rouge = 0;
        for (int i = 0; i < predictions.Count; i++)
        {
            var prediction = predictions[i] ?? throw new ArgumentException($"predictions[{i}] is null.", nameof(predictions));
            var refs = references[i] ?? throw new ArgumentException($"references[{i}] is null.", nameof(references));
            if (refs.Count == 0) throw new ArgumentException($"references[{i}] is empty; every prediction needs at least one reference.", nameof(references));
            em += ExactMatch(prediction, refs);
            f1 += TokenF1(prediction, refs);
            rouge += RougeL(prediction, refs);
        }
        int n = predictions.Count;
        return new GenerationScores(em / n, f1 / n, rouge / n, n);
    }

    private static double MaxOver(IReadOnlyList<string> references, Func<string, double> score)
    {
        ArgumentNullException.ThrowIfNull(references);
        if (references.Count == 0) throw new ArgumentException("At least one reference is needed.", nameof(references));
        return references.Max(score);
    }

    private static int LongestCommonSubsequence(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var previous = new int[b.Count + 1];
        var current = new int[b.Count + 1];
        for (int i = 1; i <= a.Count; i++)
        {
            for (int j = 1; j <= b.Count; j++)
                current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            (previous, current) = (current, previous);
        }
        return previous[b.Count];
    }
}
