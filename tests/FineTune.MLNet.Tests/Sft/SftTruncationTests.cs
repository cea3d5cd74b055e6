using FineTune.MLNet.Losses;
using FineTune.MLNet.Tests.Tokenization.HuggingFace;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;
using Xunit;

namespace FineTune.MLNet.Tests.Sft;

/// <summary>MaxLength: the prompt is cut from the left after BOS down to half the window, then the response from its end.</summary>
public class SftTruncationTests
{
    private const int I = CausalLmLoss.IgnoreIndex;
    private static readonly HfTokenizer ChatMl = HfTokenizer.FromFolder(HfFixtures.ByteLevelChatMl);

    // Untruncated ChatML "hi" / "the answer" (SftExampleBuilderTests): 21 prompt ids (BOS first) then the reply
    // th e Ġanswer <|im_end|> Ċ = 261 73 282 4 203; 26 ids in all. The prompt ends ... a n t Ċ = 69 82 88 203.
    private static SftExample Build(int maxLength) =>
        new SftExampleBuilder(ChatMl, new SftDataOptions { MaxLength = maxLength }).FromPair("hi", "the answer");

    [Fact]
    public void ExampleThatFitsIsUntouched()
    {
        var example = Build(26);
        Assert.Equal(26, example.Length);
        Assert.False(example.Truncated);
    }

    [Fact]
    public void PromptIsCutFromTheLeftKeepingBosAndTheWholeResponse()
    {
        var example = Build(10);
        Assert.True(example.Truncated);
        Assert.Equal([1, 69, 82, 88, 203, 261, 73, 282, 4, 203], example.InputIds);
        Assert.Equal([I, I, I, I, I, 261, 73, 282, 4, 203], example.Labels);
    }

    [Fact]
    public void ALongResponseNeverPushesTheRequestOutOfTheWindow()
    {
        // Window 6: half of it (3 tokens, BOS included) stays context, the response gets the other 3 and loses its end.
        var example = Build(6);
        Assert.True(example.Truncated);
        Assert.Equal([1, 88, 203, 261, 73, 282], example.InputIds);
        Assert.Equal([I, I, I, 261, 73, 282], example.Labels);
        Assert.DoesNotContain(ChatMl.EosId!.Value, example.InputIds);
    }

    [Fact]
    public void ResponseLongerThanTheRoomIsCutAtItsEndEosIncluded()
    {
        var example = Build(4);
        Assert.True(example.Truncated);
        Assert.Equal([1, 203, 261, 73], example.InputIds);
        Assert.Equal([I, I, 261, 73], example.Labels);
        Assert.DoesNotContain(ChatMl.EosId!.Value, example.InputIds);
    }

    [Fact]
    public void AShortRequestSurvivesAResponseFarLongerThanTheWindow()
    {
        var builder = new SftExampleBuilder(ChatMl, new SftDataOptions { MaxLength = 32 });
        var full = builder.FromPair("hi", "the answer");                      // 21 prompt ids (BOS first) + 5
        var promptIds = full.InputIds[..21];
        var example = builder.FromPair("hi", string.Join(" ", Enumerable.Repeat("the answer", 40)));
        Assert.True(example.Truncated);
        Assert.Equal(32, example.Length);
        // Half the window (16 tokens) stays context: BOS and the request's last 15 tokens; then 16 tokens of the reply.
        Assert.Equal(promptIds[..1].Concat(promptIds[^15..]), example.InputIds[..16]);
        Assert.Equal(16, example.SupervisedTokenCount);
        Assert.Equal(full.InputIds[21..24], example.InputIds[16..19]);            // "the answer": the reply starts as untruncated
    }

    [Fact]
    public void DataSetCountsTruncatedExamples()
    {
        var builder = new SftExampleBuilder(ChatMl, new SftDataOptions { MaxLength = 24 });
        // ("", "ok"): 19 prompt ids + o k <|im_end|> Ċ = 23 <= 24; ("hi", "the answer"): 26 > 24.
        var dataset = builder.BuildFromPairs([("hi", "the answer"), ("", "ok"), ("hi", "the answer")]);

        Assert.Equal(2, dataset.TruncatedCount);
        Assert.Equal([24, 23, 24], dataset.Examples.Select(e => e.Length));
        Assert.Equal(5 + 4 + 5, dataset.SupervisedTokenCount);
    }
}
