using FineTune.MLNet.Data;
using FineTune.MLNet.Tests.Tokenization.HuggingFace;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;
using Xunit;

namespace FineTune.MLNet.Tests.Sft;

/// <summary>Building SFT examples from IDataView text columns, and the column errors.</summary>
public class SftDataViewTests
{
    private static readonly HfTokenizer ChatMl = HfTokenizer.FromFolder(HfFixtures.ByteLevelChatMl);

    [Fact]
    public void PromptResponseAndMessagesColumnsGiveTheSameExamples()
    {
        var builder = new SftExampleBuilder(ChatMl);
        var data = new InMemoryTextDataView(
            ["Prompt", "Response", "Messages"],
            [
                ["hi", "is"],
                ["the answer", "ok"],
                ["""[{"role":"user","content":"hi"},{"role":"assistant","content":"the answer"}]""",
                 """[{"role":"user","content":"is"},{"role":"assistant","content":"ok"}]"""],
            ]);

        var fromPairs = builder.BuildFromDataView(data, "Prompt", "Response");
        var fromMessages = builder.BuildFromDataView(data, "Messages");

        Assert.Equal(2, fromPairs.Examples.Count);
        Assert.Equal(builder.FromPair("hi", "the answer").InputIds, fromPairs.Examples[0].InputIds);
        Assert.Equal(fromPairs.Examples.Select(e => e.InputIds), fromMessages.Examples.Select(e => e.InputIds));
        Assert.Equal(fromPairs.Examples.Select(e => e.Labels), fromMessages.Examples.Select(e => e.Labels));
    }

    [Fact]
    public void MissingColumnIsNamed()
    {
        var data = new InMemoryTextDataView(["Prompt"], [["hi"]]);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SftExampleBuilder(ChatMl).BuildFromDataView(data, "Prompt", "Answer"));
        Assert.Contains("'Answer' was not found", ex.Message);
    }
}
