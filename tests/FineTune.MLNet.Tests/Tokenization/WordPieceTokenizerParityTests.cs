using System.Text.Json;
using Xunit;

namespace FineTune.MLNet.Tests.Tokenization;

/// <summary>
/// Compares with golden ids from an independent pure-Python re-implementation of Hugging Face's slow
/// BertTokenizer (Fixtures/Tokenization/make_wordpiece_fixture.py): 18 hand-made edge cases (accents, CJK,
/// emoji, control characters, long words, punctuation, non-Latin scripts) and the first 150 Amazon Alexa reviews.
/// </summary>
public class WordPieceTokenizerParityTests
{
    private static readonly string FixturePath =
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "Tokenization", "wordpiece_uncased.json");

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < LoadCases().Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Fact]
    public void FixtureWasMadeFromTheBundledVocab()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath));
        Assert.Equal(MiniLmVocab.Tokenizer.VocabSize, doc.RootElement.GetProperty("vocab_size").GetInt32());
        Assert.Equal(168, LoadCases().Count);
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void IdsMatchTheReference(int index)
    {
        var (text, expected) = LoadCases()[index];
        var actual = MiniLmVocab.Tokenizer.Tokenize(text);
        Assert.True(
            expected.SequenceEqual(actual),
            $"case {index} '{text}':\n expected {string.Join(' ', expected.Select(i => MiniLmVocab.Lines[i]))}\n actual   {string.Join(' ', actual.Select(i => MiniLmVocab.Lines[i]))}");
    }

    private static List<(string Text, int[] Ids)> LoadCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => (c.GetProperty("text").GetString()!, c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray()))
            .ToList();
    }
}
