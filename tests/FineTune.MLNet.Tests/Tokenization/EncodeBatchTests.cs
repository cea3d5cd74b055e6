using FineTune.MLNet.Tokenization;
using TorchSharp;
using Xunit;

namespace FineTune.MLNet.Tests.Tokenization;

public class EncodeBatchTests
{
    private static WordPieceTokenizer Tok => MiniLmVocab.Tokenizer;

    [Fact]
    public void LongestPaddingUsesTheLongestRowAndMasksPads()
    {
        var batch = Tok.EncodeBatch(["hello world", "hello", "the quick brown fox"], pairs: null, maxLength: 16, PaddingMode.Longest);
        Assert.Equal(3, batch.BatchSize);
        Assert.Equal(6, batch.SequenceLength); // [CLS] the quick brown fox [SEP]
        Assert.Equal(
            [101, 7592, 2088, 102, 0, 0,
             101, 7592, 102, 0, 0, 0,
             101, 1996, 4248, 2829, 4419, 102],
            batch.InputIds);
        Assert.Equal(
            [1, 1, 1, 1, 0, 0,
             1, 1, 1, 0, 0, 0,
             1, 1, 1, 1, 1, 1],
            batch.AttentionMask);
        Assert.All(batch.TokenTypeIds, t => Assert.Equal(0L, t));
        Assert.Equal([4, 3, 6], Enumerable.Range(0, 3).Select(batch.RowLength));
    }

    [Fact]
    public void MaxLengthPaddingAndTruncationGiveTheFixedWidth()
    {
        var batch = Tok.EncodeBatch(["hello", "the quick brown fox jumps over the lazy dog"], pairs: null, maxLength: 5, PaddingMode.MaxLength);
        Assert.Equal(5, batch.SequenceLength);
        Assert.Equal(
            [101, 7592, 102, 0, 0,
             101, 1996, 4248, 2829, 102],
            batch.InputIds);
        Assert.Equal([1, 1, 1, 0, 0, 1, 1, 1, 1, 1], batch.AttentionMask);

        var wide = Tok.EncodeBatch(["hello"], pairs: null, maxLength: 9, PaddingMode.MaxLength);
        Assert.Equal(9, wide.SequenceLength);
        Assert.Equal([101L, 7592, 102, 0, 0, 0, 0, 0, 0], wide.InputIds);
    }

    [Fact]
    public void PairsCarryTokenTypesAndZeroTypesOnPadding()
    {
        var batch = Tok.EncodeBatch(["hello", "hello world"], ["world", "how are you"], maxLength: 32, PaddingMode.Longest);
        Assert.Equal(8, batch.SequenceLength);
        Assert.Equal(
            [101, 7592, 102, 2088, 102, 0, 0, 0,
             101, 7592, 2088, 102, 2129, 2024, 2017, 102],
            batch.InputIds);
        Assert.Equal(
            [0, 0, 0, 1, 1, 0, 0, 0,
             0, 0, 0, 0, 1, 1, 1, 1],
            batch.TokenTypeIds);
        Assert.Equal(
            [1, 1, 1, 1, 1, 0, 0, 0,
             1, 1, 1, 1, 1, 1, 1, 1],
            batch.AttentionMask);
    }

    [Fact]
    public void PairRowsAreTruncatedLongestFirst()
    {
        var batch = Tok.EncodeBatch(["the quick brown fox jumps"], ["hello world"], maxLength: 8, PaddingMode.MaxLength);
        Assert.Equal([101L, 1996, 4248, 2829, 102, 7592, 2088, 102], batch.InputIds);
        Assert.Equal([0L, 0, 0, 0, 0, 1, 1, 1], batch.TokenTypeIds);
    }

    [Fact]
    public void BlankRowIsRejectedNamingTheListAndRow()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tok.EncodeBatch(["hello", " "], null, 8));
        Assert.Equal("texts", ex.ParamName);
        Assert.Contains("texts[1]", ex.Message);

        var pairEx = Assert.Throws<ArgumentException>(() => Tok.EncodeBatch(["hello", "world"], ["ok", ""], 8));
        Assert.Equal("pairs", pairEx.ParamName);
        Assert.Contains("pairs[1]", pairEx.Message);
    }

    [Fact]
    public void MismatchedPairCountAndEmptyBatchAreRejected()
    {
        Assert.Equal("pairs", Assert.Throws<ArgumentException>(() => Tok.EncodeBatch(["a", "b"], ["c"], 8)).ParamName);
        Assert.Equal("texts", Assert.Throws<ArgumentException>(() => Tok.EncodeBatch([], null, 8)).ParamName);
    }

    [Fact]
    public void ToTensorsGivesInt64TensorsOfShapeBT()
    {
        var batch = Tok.EncodeBatch(["hello world", "hello"], ["how are you", "world"], maxLength: 16);
        var (inputIds, attentionMask, tokenTypeIds) = batch.ToTensors(torch.CPU);
        using (inputIds)
        using (attentionMask)
        using (tokenTypeIds)
        {
            foreach (var t in new[] { inputIds, attentionMask, tokenTypeIds })
            {
                Assert.Equal([2L, batch.SequenceLength], t.shape);
                Assert.Equal(torch.ScalarType.Int64, t.dtype);
                Assert.Equal(DeviceType.CPU, t.device_type);
            }

            Assert.Equal(batch.InputIds, inputIds.data<long>().ToArray());
            Assert.Equal(batch.AttentionMask, attentionMask.data<long>().ToArray());
            Assert.Equal(batch.TokenTypeIds, tokenTypeIds.data<long>().ToArray());
            Assert.Equal(2088L, inputIds[0, 2].item<long>()); // row-major: [b=0, t=2] = "world"
            Assert.Equal(0L, attentionMask[1, batch.SequenceLength - 1].item<long>());
        }
    }
}
