using System.Text.Json.Nodes;
using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;

namespace FineTune.MLNet.Tests.Tokenization.HuggingFace;

/// <summary>Hand-derived encodings, round trips, special tokens and tokenizer_config.json handling.</summary>
public class HfTokenizerTests
{
    private static readonly HfTokenizer ChatMl = HfTokenizer.FromFolder(HfFixtures.ByteLevelChatMl);
    private static readonly HfTokenizer Split = HfTokenizer.FromFolder(HfFixtures.ByteLevelSplit);
    private static readonly HfTokenizer SpLegacy = HfTokenizer.FromFolder(HfFixtures.SpLegacy);
    private static readonly HfTokenizer SpMetaspace = HfTokenizer.FromFolder(HfFixtures.SpMetaspace);

    // Byte-level fixture ids: 0 <pad>, 1 <s>, 2 </s>, 3 <|im_start|>, 4 <|im_end|>, then byte b at 5 + its rank in
    // GPT-2's bytes_to_unicode order (printable ASCII b -> 5 + b - 33, so 'e' = 73, 'l' = 80, 'o' = 83, 'u' = 89,
    // 's' = 87; space 'Ġ' = 225, newline 'Ċ' = 203), then merge i at 261 + i:
    // 0 "t h"=261, 10 "Ġ h"=271, 5 "Ġ a"=266, 6 "Ġa n"=267, 11 "s w"=272, 15 "e r"=276, 20 "Ġan sw"=281, 21 "Ġansw er"=282, 30 "e l"=291.
    [Theory]
    [InlineData("the answer", new[] { 261, 73, 282 })] // "the" | "Ġanswer": t h -> th (no "th e" merge); Ġ a n s w e r -> Ġanswer by merges 5, 6, 11, 15, 20, 21
    [InlineData(" hello", new[] { 271, 291, 80, 83 })] // Ġ h -> Ġh, e l -> el, no merge for l l / l o
    [InlineData("<|im_start|>user\n", new[] { 3, 89, 87, 276, 203 })] // special as one id; u s e r -> u s er; "\n" -> Ċ
    public void ByteLevelEncodingsDerivedByHandFromTheMerges(string text, int[] expected) =>
        Assert.Equal(expected, ChatMl.Encode(text, addSpecialTokens: false));

    // SentencePiece-style fixture ids: 0 <unk>, 1 <s>, 2 </s>, byte b at 3 + b (<0x0A> = 13, <0xC3> = 198, <0xA9> = 172),
    // 259 ▁, 260 h, 261 e, 262 l, 263 o, ..., 270 !, then merges: 271 ▁h, 272 el, 273 ell, 274 ▁hell, 275 ▁hello,
    // 276 ▁w, 277 or, 278 ▁wor, 279 ▁worl, 280 ▁world, 281 ▁c, 282 ▁ca, 283 ▁cat.
    [Theory]
    [InlineData("hello world", new[] { 1, 275, 280 })] // "▁hello▁world": merges in rank order build ▁hello, then ▁world
    [InlineData("cat!", new[] { 1, 283, 270 })]
    [InlineData("hello\n", new[] { 1, 275, 13 })] // '\n' is not in the vocabulary: byte fallback <0x0A>
    [InlineData("héllo", new[] { 1, 271, 198, 172, 262, 262, 263 })] // é -> <0xC3><0xA9> blocks "e l", so only ▁h merges
    public void SentencePieceStyleEncodingsDerivedByHand(string text, int[] expected)
    {
        Assert.Equal(expected, SpLegacy.Encode(text));
        Assert.Equal(expected, SpMetaspace.Encode(text));
    }

    [Fact]
    public void LegacyPrependsToEverySegmentButMetaspaceFirstOnlyToTheStart()
    {
        // Prepend normalizer runs on each segment after "<s>": "▁hello". Metaspace(first) does not: h + ell + o.
        Assert.Equal([1, 1, 275], SpLegacy.Encode("<s>hello"));
        Assert.Equal([1, 1, 260, 273, 263], SpMetaspace.Encode("<s>hello"));
    }

    public static TheoryData<string> RoundTripTexts() => new()
    {
        "", "plain ascii text.", "Zürich 🚀 naïve\t\ttabs\n\n\nend", "中文 and العربية and हिन्दी", "   leading", "trailing\n\n",
        "mixed   \n  \t whitespace\r\n", "family 👩‍👩‍👧 flag 🇫🇷 skin 👍🏽", "numbers 1234567890 3.14 -2e10", "quotes 'single' \"double\" `back`",
        "I'll we've they're it's", "\u0000\u0001\u007f\u00a0\u200b", "𝒳 math letters and 𐍈 gothic",
    };

    [Theory]
    [MemberData(nameof(RoundTripTexts))]
    public void DecodeOfEncodeIsIdentity(string text)
    {
        Assert.Equal(text, ChatMl.Decode(ChatMl.Encode(text), skipSpecialTokens: true));
        Assert.Equal(text, Split.Decode(Split.Encode(text), skipSpecialTokens: true));
        Assert.Equal(text, SpLegacy.Decode(SpLegacy.Encode(text), skipSpecialTokens: true));
    }

    [Fact]
    public void SpecialTokensInTextAreSingleIdsAndSkippedOnRequest()
    {
        string text = "<|im_start|>user\nhi<|im_end|>\n";
        var ids = ChatMl.Encode(text, addSpecialTokens: true);
        Assert.Equal(1, ids[0]); // add_bos_token: true
        Assert.Equal(1, ids.Count(id => id == 3));
        Assert.Equal(1, ids.Count(id => id == 4));
        Assert.Equal("<s>" + text, ChatMl.Decode(ids, skipSpecialTokens: false));
        Assert.Equal("user\nhi\n", ChatMl.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void ConfigValuesAreRead()
    {
        Assert.Equal(1, ChatMl.BosId);
        Assert.Equal(4, ChatMl.EosId); // ChatML: eos_token is <|im_end|>
        Assert.Equal(0, ChatMl.PadId);
        Assert.Null(ChatMl.UnkId);
        Assert.Equal(309, ChatMl.VocabSize);
        Assert.Equal(new HashSet<int> { 0, 1, 2, 3, 4 }, ChatMl.SpecialIds);
        Assert.StartsWith("{% for message in messages %}{{'<|im_start|>'", ChatMl.ChatTemplate);
        Assert.Equal(128, ChatMl.ModelMaxLength);
        Assert.Equal(4, ChatMl.TokenToId("<|im_end|>"));
        Assert.Equal(263, ChatMl.TokenToId("Ġthe"));
        Assert.Throws<KeyNotFoundException>(() => ChatMl.TokenToId("not-a-token"));
    }

    [Fact]
    public void ChatTemplateComesFromNamedListOrJinjaFile()
    {
        Assert.Equal("{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}", SpLegacy.ChatTemplate); // the "default" entry
        Assert.Equal("{% for message in messages %}{{ message['content'] }}{% endfor %}", Split.ChatTemplate); // chat_template.jinja
        Assert.Equal(310, Split.VocabSize); // <tool> added after the 309 model tokens
        Assert.Equal(0, SpLegacy.UnkId);
        Assert.Null(SpLegacy.PadId);
        Assert.Equal(new HashSet<int> { 0, 1, 2 }, SpLegacy.SpecialIds);
    }

    [Fact]
    public void BosFollowsPostProcessorWhenConfigIsSilent()
    {
        Assert.Equal([1, 261, 73, 282], Split.Encode("the answer", addSpecialTokens: true));
        Assert.Equal([261, 73, 282], Split.Encode("the answer", addSpecialTokens: false));
    }

    [Fact]
    public void AddEosTokenAppendsEosAndAddBosFalseDropsBos()
    {
        string dir = HfFixtures.CopyToTemp(HfFixtures.ByteLevelChatMl);
        try
        {
            string path = Path.Combine(dir, "tokenizer_config.json");
            var config = JsonNode.Parse(File.ReadAllText(path))!;
            config["add_bos_token"] = false;
            config["add_eos_token"] = true;
            File.WriteAllText(path, config.ToJsonString());
            var tokenizer = HfTokenizer.FromFolder(dir);
            Assert.Equal([261, 73, 282, 4], tokenizer.Encode("the answer"));
            Assert.Equal([261, 73, 282], tokenizer.Encode("the answer", addSpecialTokens: false));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void AddedTokenWithLStripSwallowsSpaceOnItsLeft()
    {
        Assert.Equal([92, 309, 225, 93], Split.Encode("x <tool> y", addSpecialTokens: false));
        Assert.Equal("x<tool> y", Split.Decode([92, 309, 225, 93]));
    }

    [Fact]
    public void LongUnsplitTextRoundTrips()
    {
        // sp-legacy has no pre-tokenizer: the whole text is one BPE word, which must not be quadratic.
        string text = string.Concat(Enumerable.Repeat("hello world cat! héllo\n", 4000)); // 92k chars
        var ids = SpLegacy.Encode(text, addSpecialTokens: false);
        Assert.Equal(text, SpLegacy.Decode(ids));
        // First repeat: ▁hello ▁world ▁cat ! ▁h <0xC3> <0xA9> l l o <0x0A> (11). Later ones start after "\n" with no "▁",
        // so "hello" is h ell o: 13 each.
        Assert.Equal(11 + 3999 * 13, ids.Count);
    }
}
