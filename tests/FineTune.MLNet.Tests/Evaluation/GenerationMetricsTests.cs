using FineTune.MLNet.Metrics;
using Xunit;

namespace FineTune.MLNet.Tests.Evaluation;

/// <summary>Hand-computed SQuAD exact match / F1, rouge-score ROUGE-L and perplexity.</summary>
public class GenerationMetricsTests
{
    private const double Tol = 1e-12;

    [Theory]
    [InlineData("The Denver Broncos", "Denver Broncos", 1)]    // article dropped
    [InlineData("denver broncos!", "Denver  Broncos.", 1)]     // case, punctuation, whitespace
    [InlineData("an apple", "apple", 1)]
    [InlineData("another apple", "apple", 0)]                  // "an" only as a whole word
    [InlineData("Broncos", "Denver Broncos", 0)]
    [InlineData("", "", 1)]
    [InlineData("the", "", 1)]                                  // both normalize to empty
    [InlineData("", "Denver", 0)]
    public void ExactMatchUsesSquadNormalization(string prediction, string reference, double expected) =>
        Assert.Equal(expected, GenerationMetrics.ExactMatch(prediction, reference));

    [Theory]
    // pred {denver, broncos, won} vs gold {denver, broncos}: 2 common, P = 2/3, R = 1, F1 = 2*(2/3)/(5/3) = 0.8
    [InlineData("Denver Broncos won", "the Denver Broncos", 0.8)]
    // pred {santa, clara} vs gold {levis, stadium, in, santa, clara, california}: P = 1, R = 1/3, F1 = 0.5
    [InlineData("Santa Clara", "Levi's Stadium in Santa Clara, California", 0.5)]
    // repeated tokens count as a multiset: pred {cat, cat} vs gold {cat}: 1 common, P = 1/2, R = 1, F1 = 2/3
    [InlineData("cat cat", "cat", 2.0 / 3)]
    [InlineData("dog", "cat", 0)]
    [InlineData("", "", 1)]                                     // SQuAD v2: both empty scores 1
    [InlineData("", "cat", 0)]
    [InlineData("cat", "", 0)]
    public void TokenF1MatchesTheSquadScript(string prediction, string reference, double expected) =>
        Assert.Equal(expected, GenerationMetrics.TokenF1(prediction, reference), Tol);

    [Theory]
    // 6 and 6 tokens, LCS "the cat on the mat" = 5: P = R = F = 5/6
    [InlineData("the cat sat on the mat", "the cat is on the mat", 5.0 / 6)]
    // LCS 2 ("police killed" or "the gunman") of 4 and 4: F = 0.5 (an LCS, not a bag of words: unigram F would be 1)
    [InlineData("the gunman police killed", "police killed the gunman", 0.5)]
    // LCS 2, P = 2/2, R = 2/4: F = 2 * 0.5 / 1.5 = 2/3
    [InlineData("The cat", "the cat sat down", 2.0 / 3)]
    [InlineData("Hello, World!", "hello world", 1)]              // non-alphanumerics are separators
    [InlineData("café", "caf", 1)]                               // rouge-score keeps [a-z0-9] only
    [InlineData("", "cat", 0)]
    [InlineData("cat", "", 0)]
    [InlineData("", "", 0)]                                       // rouge-score: 0 when either side has no tokens
    [InlineData("!!!", "...", 0)]
    public void RougeLIsTheRougeScoreLcsFMeasure(string prediction, string reference, double expected) =>
        Assert.Equal(expected, GenerationMetrics.RougeL(prediction, reference), Tol);

    [Fact]
    public void SeveralReferencesTakeTheBest()
    {
        string[] refs = ["Denver Broncos", "the Broncos"];
        Assert.Equal(1, GenerationMetrics.ExactMatch("Broncos", refs));
        Assert.Equal(1, GenerationMetrics.TokenF1("broncos", refs), Tol);
        Assert.Equal(2.0 / 3, GenerationMetrics.RougeL("broncos", refs), Tol); // vs "the broncos": P 1, R 1/2
    }

    [Fact]
    public void EvaluateAveragesOverExamples()
    {
        var scores = GenerationMetrics.Evaluate(
            ["Denver Broncos won", "the cat sat on the mat", ""],
            ["the Denver Broncos", "the cat is on the mat", "x"]);

        Assert.Equal(3, scores.Count);
        Assert.Equal(0, scores.ExactMatch, Tol);
        // F1: 0.8, {cat, sat, on, mat} vs {cat, is, on, mat} = 3/4, 0
        Assert.Equal((0.8 + 0.75 + 0) / 3, scores.F1, Tol);
        // ROUGE-L: LCS "denver broncos" = 2 of 3 and 3 -> 2/3; 5/6; 0
        Assert.Equal((2.0 / 3 + 5.0 / 6 + 0) / 3, scores.RougeL, Tol);
    }

    [Fact]
    public void EvaluateRejectsMismatchedOrEmptyLists()
    {
        Assert.Throws<ArgumentException>(() => GenerationMetrics.Evaluate(["a"], ["a", "b"]));
        Assert.Throws<ArgumentException>(() => GenerationMetrics.Evaluate([], Array.Empty<string>()));
        Assert.Throws<ArgumentException>(() => GenerationMetrics.Evaluate(["a"], [Array.Empty<string>()]));
    }

    [Fact]
    public void PerplexityIsExpOfTheMeanNll()
    {
        Assert.Equal(4, GenerationMetrics.Perplexity(Math.Log(4)), Tol);
        Assert.Equal(1, GenerationMetrics.Perplexity(0.0));
        Assert.Equal(Math.Exp(2.5), GenerationMetrics.Perplexity(totalNll: 10, tokenCount: 4), Tol);
        Assert.Throws<ArgumentOutOfRangeException>(() => GenerationMetrics.Perplexity(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GenerationMetrics.Perplexity(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => GenerationMetrics.Perplexity(1.0, 0));
    }
}
