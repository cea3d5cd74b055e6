using FineTune.MLNet.Losses;
using FineTune.MLNet.Tests.Tokenization.HuggingFace;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;
using TorchSharp;
using Xunit;

namespace FineTune.MLNet.Tests.Sft;

/// <summary>Right padding, masks by position, pad id choice, tensors and the block-diagonal causal mask.</summary>
public class SftCollatorTests
{
    private const int I = CausalLmLoss.IgnoreIndex;

    private static readonly SftExample Short = new([5, 6, 7], [I, 6, 7], false);
    private static readonly SftExample Long = new([8, 9, 10, 11, 12], [I, I, 10, 11, 12], false);

    [Fact]
    public void PadsOnTheRightToTheLongest()
    {
        var batch = new SftCollator(padId: 0).Collate([Short, Long]);

        Assert.Equal((2, 5), (batch.BatchSize, batch.SequenceLength));
        Assert.Equal([5, 6, 7, 0, 0, 8, 9, 10, 11, 12], batch.InputIds);
        Assert.Equal([I, 6, 7, I, I, I, I, 10, 11, 12], batch.Labels);
        Assert.Equal([1, 1, 1, 0, 0, 1, 1, 1, 1, 1], batch.AttentionMask);
        Assert.Equal([0, 1, 2, 0, 0, 0, 1, 2, 3, 4], batch.PositionIds);
        Assert.Equal([0, 0, 0, -1, -1, 0, 0, 0, 0, 0], batch.DocumentIds);
        Assert.Equal(5, batch.SupervisedTokenCount);
    }

    [Fact]
    public void PadToMultipleOfRoundsTheLengthUp()
    {
        var batch = new SftCollator(padId: 0, padToMultipleOf: 4).Collate([Short, Long]);
        Assert.Equal(8, batch.SequenceLength);
        Assert.Equal(8, batch.AttentionMask.Count(m => m == 1));
    }

    [Fact]
    public void PadsWithEosWhenThereIsNoPadTokenAndKeepsTheRealEosSupervised()
    {
        var sp = HfTokenizer.FromFolder(HfFixtures.SpLegacy); // pad_token null, eos </s> = 2
        var collator = SftCollator.ForTokenizer(sp);
        Assert.Equal(2, collator.PadId);
        Assert.Equal(0, SftCollator.ForTokenizer(HfTokenizer.FromFolder(HfFixtures.ByteLevelChatMl)).PadId); // <pad>

        var builder = new SftExampleBuilder(sp, new SftDataOptions { UseChatTemplate = false, Separator = " " });
        var batch = collator.Collate([builder.FromPair("hello", "world"), Long]);
        // row 0: <s> ▁hello ▁world </s>, then one padding </s>: same id, but only the real EOS is supervised and attended.
        Assert.Equal([1, 275, 280, 2, 2], batch.InputIds.Take(5));
        Assert.Equal([I, I, 280, 2, I], batch.Labels.Take(5));
        Assert.Equal([1, 1, 1, 1, 0], batch.AttentionMask.Take(5));
    }

    [Fact]
    public void ToTensorsGivesInt64BatchByTime()
    {
        var batch = new SftCollator(padId: 0).Collate([Short, Long]);
        using var tensors = batch.ToTensors();

        foreach (var t in new[] { tensors.InputIds, tensors.Labels, tensors.AttentionMask, tensors.PositionIds })
        {
            Assert.Equal([2L, 5L], t.shape);
            Assert.Equal(torch.ScalarType.Int64, t.dtype);
        }
        Assert.Equal(batch.InputIds, tensors.InputIds.data<long>().ToArray());
        Assert.Equal(batch.Labels, tensors.Labels.data<long>().ToArray());
        Assert.Equal(batch.PositionIds, tensors.PositionIds.data<long>().ToArray());
    }

    [Fact]
    public void BlockCausalMaskLetsTokensSeeOnlyEarlierTokensOfTheirOwnExample()
    {
        var rows = new SftPacker(8).Pack([Short, new SftExample([1, 2], [I, 2], false)]); // one row: docs 0 0 0 1 1
        var batch = new SftCollator(padId: 0).Collate([rows[0], Long.ToSequence(), new SftSequence([3], [I], [0], [0])]);
        using var mask = batch.CreateBlockCausalMask();

        Assert.Equal([3L, 1L, 5L, 5L], mask.shape);
        Assert.Equal(torch.ScalarType.Bool, mask.dtype);
        var values = mask.data<bool>().ToArray();
        int T = batch.SequenceLength;
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++)
                {
                    long di = batch.DocumentIds[b * T + i], dj = batch.DocumentIds[b * T + j];
                    bool expected = j <= i && di == dj;
                    Assert.True(expected == values[(b * T + i) * T + j], $"b={b} i={i} j={j}");
                }
        // spot checks: row 0 token 3 (first of the second example) sees only itself; padding never seen by tokens
        Assert.Equal([false, false, false, true, false], values.Skip(3 * T).Take(T));
        Assert.False(values[(2 * T + 0) * T + 1]);
        Assert.True(values[(2 * T + 4) * T + 4]); // padding row attends to itself: no all-masked row
    }

    [Fact]
    public void RejectsEmptyBatchesAndRaggedSequences()
    {
        var collator = new SftCollator(padId: 0);
        Assert.Throws<ArgumentException>(() => collator.Collate(Array.Empty<SftSequence>()));
        var ex = Assert.Throws<ArgumentException>(() => collator.Collate([new SftSequence([1, 2], [I], [0, 1], [0, 0])]));
        Assert.Contains("sequence 0", ex.Message);
    }
}
