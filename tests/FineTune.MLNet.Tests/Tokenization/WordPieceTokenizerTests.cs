using FineTune.MLNet.Import.MiniLm;
using FineTune.MLNet.Tests.TestSupport;
using FineTune.MLNet.Tokenization;
using Xunit;

namespace FineTune.MLNet.Tests.Tokenization;

/// <summary>
/// Expected ids are the published bert-base-uncased ids (hello=7592, world=2088, [CLS]=101, ...) or looked up as
/// line numbers of the vocabulary file (<see cref="MiniLmVocab.Id"/>), never produced by the code under test.
/// </summary>
public class WordPieceTokenizerTests
{
    private static WordPieceTokenizer Tok => MiniLmVocab.Tokenizer;

    [Fact]
    public void SpecialIdsAndVocabSizeMatchBertBaseUncased()
    {
        Assert.Equal(101, Tok.ClsId);
        Assert.Equal(102, Tok.SepId);
        Assert.Equal(0, Tok.PadId);
        Assert.Equal(100, Tok.UnkId);
        Assert.Equal(103, Tok.MaskId);
        Assert.Equal(30522, Tok.VocabSize);
    }

    [Fact]
    public void HelloWorldGivesThePublishedIds()
    {
        var encoded = Tok.Encode("hello world");
        Assert.Equal([101, 7592, 2088, 102], encoded.InputIds);
        Assert.Equal([0, 0, 0, 0], encoded.TokenTypeIds);
    }

    [Fact]
    public void UpperCaseIsLowerCasedWithUncasedOptions()
    {
        Assert.Equal([101, 7592, 2088, 102], Tok.Encode("HeLLo WORLD").InputIds);
    }

    [Fact]
    public void CasedOptionsKeepCaseSoUppercaseWordsMissTheUncasedVocab()
    {
        using var stream = MiniLmResources.OpenVocab();
        var cased = WordPieceTokenizer.FromVocabStream(stream, WordPieceTokenizerOptions.Cased);
        // "Hello" is not a line of the uncased vocab, and neither is any piece starting with "H": the whole word is [UNK].
        Assert.Equal(-1, MiniLmVocab.Lines.ToList().IndexOf("Hello"));
        Assert.Equal([101, 100, 2088, 102], cased.Encode("Hello world").InputIds);
        Assert.False(cased.Options.LowerCase);
        Assert.False(cased.Options.EffectiveStripAccents);
    }

    [Fact]
    public void UnknownWordIsSplitGreedilyIntoTheLongestVocabPieces()
    {
        // Greedy longest-match over the vocab lines: "una" (14477), then "##ffa" (20961) beats "##ff", leaving "##ble".
        // (The classic docs example "una ##ff ##able" is not what this vocab yields: "##ffa" is line 20961.)
        int[] expected = [101, .. MiniLmVocab.Ids("una", "##ffa", "##ble"), 102];
        Assert.Equal([101, 14477, 20961, 3468, 102], expected);
        Assert.Equal(expected, Tok.Encode("unaffable").InputIds);
    }

    [Fact]
    public void SuffixPiecesUseTheDoubleHashPrefix()
    {
        int[] expected = [101, .. MiniLmVocab.Ids("token", "##ization", "token", "##izer", "##s"), 102];
        Assert.Equal(expected, Tok.Encode("tokenization tokenizers").InputIds);
    }

    [Fact]
    public void PunctuationIsSplitIntoItsOwnTokens()
    {
        int[] expected = [101, .. MiniLmVocab.Ids("hello", ",", "world", "!", "!", "don", "'", "t", "stop", "-", "now", "?"), 102];
        Assert.Equal([101, 7592, 1010, 2088, 999, 999, 2123, 1005, 1056, 2644, 1011, 2085, 1029, 102], expected);
        Assert.Equal(expected, Tok.Encode("Hello, world!! Don't stop-now?").InputIds);
    }

    [Fact]
    public void AccentsAreStrippedWhenLowerCasing()
    {
        // HF strips accents when do_lower_case and strip_accents is unset: "Café" -> "cafe" (7668); "café" is not in the vocab.
        Assert.Equal(-1, MiniLmVocab.Lines.ToList().IndexOf("café"));
        int[] expected = [101, .. MiniLmVocab.Ids("cafe", "naive"), 102];
        Assert.Equal([101, 7668, 15743, 102], expected);
        Assert.Equal(expected, Tok.Encode("Café naïve").InputIds);
    }

    [Fact]
    public void KeepingAccentsWithLowerCaseGivesDifferentIds()
    {
        using var stream = MiniLmResources.OpenVocab();
        var keep = WordPieceTokenizer.FromVocabStream(stream, new WordPieceTokenizerOptions { StripAccents = false });
        var ids = keep.Encode("café").InputIds;
        Assert.NotEqual([101, 7668, 102], ids);
        Assert.Equal(101, ids[0]);
        Assert.Equal(102, ids[^1]);
    }

    [Fact]
    public void ChineseCharactersBecomeOneTokenEach()
    {
        int[] expected = [101, .. MiniLmVocab.Ids("中", "国", "人", "love", "北", "京"), 102];
        Assert.Equal([101, 1746, 1799, 1756, 2293], expected[..5]);
        Assert.Equal(expected, Tok.Encode("中国人love北京").InputIds);
    }

    [Fact]
    public void CharactersOutsideTheVocabBecomeUnk()
    {
        int[] expected = [101, MiniLmVocab.Id("i"), 100, MiniLmVocab.Id("my"), MiniLmVocab.Id("echo"), 102];
        Assert.Equal(expected, Tok.Encode("I 🤗 my Echo").InputIds);
    }

    [Fact]
    public void WhitespaceKindsAllSeparateWords()
    {
        Assert.Equal([101, 7592, 2088, 7592, 102], Tok.Encode("  hello\tworld\r\n\n hello  ").InputIds);
    }

    [Fact]
    public void PairGetsTwoSeparatorsAndTokenTypeOneOverTheSecondSegment()
    {
        var encoded = Tok.Encode("hello world", "how are you");
        int[] expected = [101, 7592, 2088, 102, .. MiniLmVocab.Ids("how", "are", "you"), 102];
        Assert.Equal(expected, encoded.InputIds);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1], encoded.TokenTypeIds);
    }

    [Fact]
    public void SingleTextTruncationKeepsTheFirstPiecesAndTheSeparator()
    {
        // "the quick brown fox jumps" = 1996 4248 2829 4419 14523; maxLength 5 keeps 3 of them.
        var encoded = Tok.Encode("the quick brown fox jumps", maxLength: 5);
        Assert.Equal([101, 1996, 4248, 2829, 102], encoded.InputIds);
        Assert.Equal(6, Tok.Encode("the quick brown fox jumps", maxLength: 6).Length);
        Assert.Equal(7, Tok.Encode("the quick brown fox jumps", maxLength: 7).Length);
        Assert.Equal(7, Tok.Encode("the quick brown fox jumps", maxLength: 100).Length);
    }

    [Fact]
    public void PairTruncationIsLongestFirst()
    {
        // a = 5 pieces, b = 2 pieces, maxLength 8 -> budget 5: remove 2 from the longer (a) only.
        var encoded = Tok.Encode("the quick brown fox jumps", "hello world", maxLength: 8);
        Assert.Equal([101, 1996, 4248, 2829, 102, 7592, 2088, 102], encoded.InputIds);
        Assert.Equal([0, 0, 0, 0, 0, 1, 1, 1], encoded.TokenTypeIds);

        // b longer: a = 2, b = 5, maxLength 7 -> budget 4: b shrinks to 2 first.
        var swapped = Tok.Encode("hello world", "the quick brown fox jumps", maxLength: 7);
        Assert.Equal([101, 7592, 2088, 102, 1996, 4248, 102], swapped.InputIds);

        // Equal lengths 5 and 5, maxLength 8 -> budget 5: the first keeps ceil(5/2)=3, the second 2 (HF).
        var equal = Tok.Encode("the quick brown fox jumps", "the quick brown fox jumps", maxLength: 8);
        Assert.Equal([101, 1996, 4248, 2829, 102, 1996, 4248, 102], equal.InputIds);
    }

    [Fact]
    public void CountTokensIncludesSpecials()
    {
        Assert.Equal(4, Tok.CountTokens("hello world"));
        Assert.Equal(5, Tok.CountTokens("unaffable"));
        Assert.Equal(8, Tok.CountTokens("hello world", "how are you"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\r\n")]
    public void BlankTextIsRejectedNamingTheArgument(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => Tok.Encode(text));
        Assert.Equal("text", ex.ParamName);
        Assert.Contains("empty or whitespace-only", ex.Message);

        var pairEx = Assert.Throws<ArgumentException>(() => Tok.Encode("hello", text));
        Assert.Equal("pair", pairEx.ParamName);
        Assert.Throws<ArgumentException>(() => Tok.CountTokens(text));
    }

    [Fact]
    public void TooSmallMaxLengthIsRejected()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Encode("hello", maxLength: 2));
        Assert.Equal("maxLength", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Encode("hello", "world", maxLength: 3));
        Assert.Equal(4, Tok.Encode("hello", "world", maxLength: 4).Length);
    }

    [Fact]
    public void LoadsFromAVocabFilePathWithLfLineEndings()
    {
        string path = Path.Combine(TestTempRoot.Path, $"vocab-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllText(path, string.Join("\n", MiniLmVocab.Lines) + "\n");
            var fromFile = WordPieceTokenizer.FromVocabFile(path);
            Assert.Equal(30522, fromFile.VocabSize);
            Assert.Equal([101, 14477, 20961, 3468, 1010, 7592, 102], fromFile.Encode("Unaffable, hello").InputIds);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MissingVocabFileIsNamed()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => WordPieceTokenizer.FromVocabFile("/nonexistent/vocab.txt"));
        Assert.Contains("/nonexistent/vocab.txt", ex.Message);
    }

    [Fact]
    public void OptionsValidateNamesTheField()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new WordPieceTokenizerOptions { MaxInputCharsPerWord = 0 }.Validate());
        Assert.Equal(nameof(WordPieceTokenizerOptions.MaxInputCharsPerWord), ex.ParamName);
    }
}
