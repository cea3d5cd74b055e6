using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;

namespace FineTune.MLNet.Tests.Tokenization.HuggingFace;

/// <summary>
/// A folder with only tokenizer.model goes through Microsoft.ML.Tokenizers' LlamaTokenizer. The fixture model has
/// the sp-legacy vocabulary, with piece scores ordered like the BPE merge ranks, so both must give the same ids.
/// </summary>
public class SentencePieceModelTests
{
    private static readonly HfTokenizer Model = HfTokenizer.FromFolder(HfFixtures.SpModel);
    private static readonly HfTokenizer Json = HfTokenizer.FromFolder(HfFixtures.SpLegacy);

    [Theory]
    [InlineData("hello world")]
    [InlineData("héllo")]
    [InlineData("hello\nworld cat!")]
    [InlineData("the quick brown fox")]
    [InlineData("emoji 🙂 and 日本")]
    public void SameIdsAsTheTokenizerJsonOfTheSameVocabulary(string text) =>
        Assert.Equal(Json.Encode(text), Model.Encode(text));

    [Fact]
    public void HandDerivedIdsBosAndAddedTokens()
    {
        Assert.Equal([1, 275, 280], Model.Encode("hello world"));
        Assert.Equal([275, 280], Model.Encode("hello world", addSpecialTokens: false));
        Assert.Equal([1, 284, 275], Model.Encode("<|im_start|>hello")); // added_tokens_decoder entry beyond the model
        Assert.Equal(1, Model.BosId);
        Assert.Equal(2, Model.EosId);
        Assert.Equal(0, Model.UnkId);
        Assert.Equal(285, Model.VocabSize);
        Assert.Null(Model.ModelMaxLength); // 1e30 means "no limit"
    }

    [Fact]
    public void DecodeRoundTripsAndSkipsSpecials()
    {
        var ids = Model.Encode("hello world héllo\n");
        Assert.Equal("hello world héllo\n", Model.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("hello world", Model.Decode([1, 284, 275, 280], skipSpecialTokens: true));
    }
}
