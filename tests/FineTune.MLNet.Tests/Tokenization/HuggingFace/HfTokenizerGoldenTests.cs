using System.Text.Json;
using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;

namespace FineTune.MLNet.Tests.Tokenization.HuggingFace;

/// <summary>
/// Parity with the Hugging Face <c>tokenizers</c> Rust library: golden-hf-tokenizers.json holds, for 32 texts
/// (unicode, emoji, CJK, whitespace runs, newlines, contractions, specials written in the text), the ids of
/// <c>Tokenizer.encode(text, add_special_tokens=True)</c> and <c>decode(ids, skip_special_tokens=True)</c>.
/// </summary>
public class HfTokenizerGoldenTests
{
    private static readonly JsonElement Golden = JsonDocument.Parse(File.ReadAllText(HfFixtures.Golden)).RootElement;

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var fixture in Golden.EnumerateObject())
            for (int i = 0; i < fixture.Value.GetProperty("cases").GetArrayLength(); i++) data.Add(fixture.Name, i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodeAndDecodeMatchHuggingFaceTokenizers(string fixture, int index)
    {
        var golden = Golden.GetProperty(fixture).GetProperty("cases")[index];
        string text = golden.GetProperty("text").GetString()!;
        var expected = golden.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToList();
        var tokenizer = HfTokenizer.FromFolder(Path.Combine(HfFixtures.Root, fixture));

        // byte-level-chatml's post-processor adds nothing, but its tokenizer_config says add_bos_token: true.
        bool configAddsBos = fixture == "byte-level-chatml";
        Assert.Equal(expected, tokenizer.Encode(text, addSpecialTokens: !configAddsBos));
        if (configAddsBos) Assert.Equal([1, .. expected], tokenizer.Encode(text, addSpecialTokens: true));

        Assert.Equal(golden.GetProperty("decoded").GetString(), tokenizer.Decode(expected, skipSpecialTokens: true));
    }

    [Fact]
    public void GoldenFileCoversAllFourTokenizerJsonFixtures()
    {
        Assert.Equal(["byte-level-chatml", "byte-level-split", "sp-legacy", "sp-metaspace"], Golden.EnumerateObject().Select(p => p.Name));
        Assert.All(Golden.EnumerateObject(), p => Assert.Equal(32, p.Value.GetProperty("cases").GetArrayLength()));
    }
}
