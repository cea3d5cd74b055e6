using FineTune.MLNet.Losses;
using FineTune.MLNet.Tests.Tokenization.HuggingFace;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;
using Xunit;

namespace FineTune.MLNet.Tests.Sft;

/// <summary>Greedy in-order packing: row contents, restarting positions, document ids, masked first labels.</summary>
public class SftPackerTests
{
    private const int I = CausalLmLoss.IgnoreIndex;

    private static readonly SftExample A = new([10, 11, 12, 13], [I, I, 12, 13], false);
    private static readonly SftExample B = new([20, 21, 22], [I, 21, 22], false);
    private static readonly SftExample C = new([30, 31, 32, 33, 34], [I, I, I, 33, 34], false);
    private static readonly SftExample D = new([40, 41], [40, 41], false); // hand-made: first label not masked

    [Fact]
    public void PacksGreedilyInOrderWithRestartingPositionsAndDocumentIds()
    {
        var rows = new SftPacker(8).Pack([A, B, C, D]);

        Assert.Equal(2, rows.Count); // A+B = 7 (C would make 12); C+D = 7
        Assert.Equal([10, 11, 12, 13, 20, 21, 22], rows[0].InputIds);
        Assert.Equal([I, I, 12, 13, I, 21, 22], rows[0].Labels);
        Assert.Equal([0, 1, 2, 3, 0, 1, 2], rows[0].PositionIds);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1], rows[0].DocumentIds);

        Assert.Equal([30, 31, 32, 33, 34, 40, 41], rows[1].InputIds);
        Assert.Equal([I, I, I, 33, 34, I, 41], rows[1].Labels); // D's first label masked: no cross-example target
        Assert.Equal([0, 1, 2, 3, 4, 0, 1], rows[1].PositionIds);
        Assert.Equal([0, 0, 0, 0, 0, 1, 1], rows[1].DocumentIds);
    }

    [Fact]
    public void ExampleOfExactlyMaxLengthGetsItsOwnRow()
    {
        var rows = new SftPacker(5).Pack([B, C, D]);
        Assert.Equal([3, 5, 2], rows.Select(r => r.Length));
    }

    [Fact]
    public void ExampleLongerThanThePackingLengthIsRejectedByIndex()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SftPacker(4).Pack([A, C]));
        Assert.Contains("examples[1] has 5 tokens", ex.Message);
    }

    [Fact]
    public void PackingBuiltExamplesKeepsEveryTokenAndSupervisedLabel()
    {
        var tokenizer = HfTokenizer.FromFolder(HfFixtures.ByteLevelChatMl);
        var dataset = new SftExampleBuilder(tokenizer).BuildFromPairs([("hi", "the answer"), ("", "ok"), ("is", "a"), ("hi", "")]);
        var rows = new SftPacker(64).Pack(dataset.Examples);

        Assert.Equal(dataset.TokenCount, rows.Sum(r => r.Length));
        Assert.Equal(dataset.SupervisedTokenCount, rows.Sum(r => r.Labels.Count(l => l != I)));
        Assert.All(rows, r => Assert.True(r.Length <= 64));
        Assert.Equal(dataset.Examples.SelectMany(e => e.InputIds), rows.SelectMany(r => r.InputIds));
    }
}
