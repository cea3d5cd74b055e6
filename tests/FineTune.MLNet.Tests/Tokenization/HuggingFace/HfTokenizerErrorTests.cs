using FineTune.MLNet.Tests.TestSupport;
using System.Text.Json.Nodes;
using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;

namespace FineTune.MLNet.Tests.Tokenization.HuggingFace;

/// <summary>Malformed or unsupported files fail with errors naming the file and the field.</summary>
public class HfTokenizerErrorTests
{
    private static InvalidDataException LoadWithEditedJson(Action<JsonNode> edit)
    {
        string dir = HfFixtures.CopyToTemp(HfFixtures.ByteLevelChatMl);
        try
        {
            string path = Path.Combine(dir, "tokenizer.json");
            var json = JsonNode.Parse(File.ReadAllText(path))!;
            edit(json);
            File.WriteAllText(path, json.ToJsonString());
            return Assert.Throws<InvalidDataException>(() => HfTokenizer.FromFolder(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData("WordPiece")]
    [InlineData("Unigram")]
    public void NonBpeModelsAreRejected(string type)
    {
        var e = LoadWithEditedJson(j => j["model"]!["type"] = type);
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("model.type", e.Message);
        Assert.Contains("not supported", e.Message);
    }

    [Fact]
    public void MergeOfUnknownTokenNamesTheMerge()
    {
        var e = LoadWithEditedJson(j => j["model"]!["merges"]!.AsArray()[2] = "Ġth zz");
        Assert.Contains("model.merges[2]", e.Message);
        Assert.Contains("'zz'", e.Message);
    }

    [Fact]
    public void MalformedMergeStringIsRejected()
    {
        var e = LoadWithEditedJson(j => j["model"]!["merges"]!.AsArray()[0] = "t h e");
        Assert.Contains("model.merges[0]", e.Message);
    }

    [Fact]
    public void MissingVocabIsRejected()
    {
        var e = LoadWithEditedJson(j => j["model"]!.AsObject().Remove("vocab"));
        Assert.Contains("model.vocab", e.Message);
    }

    [Fact]
    public void UnsupportedPreTokenizerIsRejected()
    {
        var e = LoadWithEditedJson(j => j["pre_tokenizer"] = new JsonObject { ["type"] = "Whitespace" });
        Assert.Contains("pre_tokenizer.type", e.Message);
        Assert.Contains("Whitespace", e.Message);
    }

    [Fact]
    public void NestedUnsupportedDecoderNamesItsPath()
    {
        var e = LoadWithEditedJson(j => j["decoder"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["decoders"] = new JsonArray(new JsonObject { ["type"] = "Fuse" }, new JsonObject { ["type"] = "WordPiece" }),
        });
        Assert.Contains("decoder.decoders[1].type", e.Message);
    }

    [Fact]
    public void ConfigTokenNotInVocabularyNamesTheField()
    {
        string dir = HfFixtures.CopyToTemp(HfFixtures.ByteLevelChatMl);
        try
        {
            string path = Path.Combine(dir, "tokenizer_config.json");
            var config = JsonNode.Parse(File.ReadAllText(path))!;
            config["bos_token"] = "<|begin_of_text|>";
            File.WriteAllText(path, config.ToJsonString());
            var e = Assert.Throws<InvalidDataException>(() => HfTokenizer.FromFolder(dir));
            Assert.Contains("tokenizer_config.json", e.Message);
            Assert.Contains("bos_token", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void MissingFolderOrFilesAreReported()
    {
        string missing = Path.Combine(TestTempRoot.Path, "hftok-missing-" + Guid.NewGuid().ToString("N"));
        Assert.Throws<DirectoryNotFoundException>(() => HfTokenizer.FromFolder(missing));
        Directory.CreateDirectory(missing);
        try
        {
            var e = Assert.Throws<FileNotFoundException>(() => HfTokenizer.FromFolder(missing));
            Assert.Contains("tokenizer.json", e.Message);
            Assert.Contains("tokenizer.model", e.Message);
        }
        finally { Directory.Delete(missing); }
    }

    [Fact]
    public void DecodeOfUnknownIdThrows()
    {
        var tokenizer = HfTokenizer.FromFolder(HfFixtures.ByteLevelChatMl);
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([5, 100_000]));
    }
}
