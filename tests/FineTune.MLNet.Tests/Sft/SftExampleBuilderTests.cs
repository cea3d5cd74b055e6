using FineTune.MLNet.ChatTemplates;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Tests.Tokenization.HuggingFace;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;
using Xunit;

namespace FineTune.MLNet.Tests.Sft;

/// <summary>Ids and labels of chat-template and plain SFT examples, BOS / EOS handling and template errors.</summary>
public class SftExampleBuilderTests
{
    private const int Ignore = CausalLmLoss.IgnoreIndex;
    private static readonly HfTokenizer ChatMl = HfTokenizer.FromFolder(HfFixtures.ByteLevelChatMl);

    // byte-level-chatml ids (see HfTokenizerTests): 1 <s>, 3 <|im_start|>, 4 <|im_end|> (= eos_token), printable ASCII
    // byte b at 5 + b - 33, '\n' = 203, merges "t h" = 261, "er" = 276, " answer" = 282. add_bos_token is true.
    private const string Prompt = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";
    private const string Completion = "the answer<|im_end|>\n";

    [Fact]
    public void ChatMlPairMasksThePromptAndSupervisesTheReplyWithItsEos()
    {
        var example = new SftExampleBuilder(ChatMl).FromPair("hi", "the answer");

        // Expected ids from the pieces encoded independently: the template renders the prompt
        // Render([user], add_generation_prompt: true) = Prompt and the whole conversation = Prompt + Completion;
        // the boundary is after "assistant\n", a pre-token boundary, so the pieces tokenize as the whole does.
        // BOS first (add_bos_token; the template does not write it); no EOS appended: the text already ends with
        // <|im_end|> (then a newline).
        int[] promptIds = [1, .. ChatMl.Encode(Prompt, addSpecialTokens: false)];
        int[] completionIds = [.. ChatMl.Encode(Completion, addSpecialTokens: false)];
        Assert.Equal([261, 73, 282, 4, 203], completionIds); // th e Ġanswer <|im_end|> Ċ, derived from the merges
        Assert.Equal([1, 3, 89, 87, 276, 203, 76, 77, 4, 203, 3, 69, 87, 87, 77, 87, 88, 69, 82, 88, 203], promptIds);

        Assert.Equal([.. promptIds, .. completionIds], example.InputIds);
        Assert.Equal([.. Enumerable.Repeat(Ignore, promptIds.Length), .. completionIds], example.Labels);
        Assert.Equal(5, example.SupervisedTokenCount);
        Assert.False(example.Truncated);
        Assert.Equal("<s>" + Prompt + Completion, ChatMl.Decode(example.InputIds));
    }

    [Fact]
    public void EosIsSupervisedExactlyOnce()
    {
        var example = new SftExampleBuilder(ChatMl).FromPair("hi", "the answer");
        int eosAt = Array.LastIndexOf(example.InputIds, ChatMl.EosId!.Value);
        Assert.Equal(example.Length - 2, eosAt); // <|im_end|> then "\n"
        Assert.Equal(ChatMl.EosId, example.Labels[eosAt]);
        Assert.Equal(2, example.InputIds.Count(id => id == ChatMl.EosId)); // the user turn's and the reply's
        Assert.Equal(Ignore, example.Labels[Array.IndexOf(example.InputIds, ChatMl.EosId!.Value)]); // user turn's is context
    }

    [Fact]
    public void WithoutTemplateThePromptSeparatorAndResponseAreConcatenatedAndEosIsAppended()
    {
        var builder = new SftExampleBuilder(ChatMl, new SftDataOptions { UseChatTemplate = false, Separator = "\n" });
        var example = builder.FromPair("hi", "the answer");

        Assert.False(builder.UsesChatTemplate);
        // BOS h i Ċ | th e Ġanswer EOS: "hi\n" is context, the response and the appended EOS are supervised.
        Assert.Equal([1, 76, 77, 203, 261, 73, 282, 4], example.InputIds);
        Assert.Equal([Ignore, Ignore, Ignore, Ignore, 261, 73, 282, 4], example.Labels);
    }

    [Fact]
    public void EosIsNotAppendedTwiceNorWhenTurnedOff()
    {
        var plain = new SftDataOptions { UseChatTemplate = false, Separator = "\n" };
        var alreadyEnded = new SftExampleBuilder(ChatMl, plain).FromPair("hi", "the answer<|im_end|>");
        Assert.Equal([1, 76, 77, 203, 261, 73, 282, 4], alreadyEnded.InputIds); // one EOS, the one in the text
        Assert.Equal(4, alreadyEnded.Labels[^1]);

        var noEos = new SftExampleBuilder(ChatMl, plain with { AppendEos = false }).FromPair("hi", "the answer");
        Assert.Equal([1, 76, 77, 203, 261, 73, 282], noEos.InputIds);
    }

    [Fact]
    public void BosIsNotDuplicatedWhenTheTemplateWritesIt()
    {
        const string template = "{{ bos_token }}{% for m in messages %}{{ m['role'] + ': ' + m['content'] + eos_token }}{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}";
        var example = new SftExampleBuilder(ChatMl, new SftDataOptions { ChatTemplateOverride = template }).FromPair("hi", "the answer");

        Assert.Equal(1, example.InputIds[0]);
        Assert.Single(example.InputIds, id => id == 1);
        Assert.Equal("<s>user: hi<|im_end|>assistant: the answer<|im_end|>", ChatMl.Decode(example.InputIds));
        // The prompt ends "assistant: " (its last token Ġ); in the whole text Ġ merges with "the" into Ġthe, so that
        // straddling token is supervised (see the straddling test below).
        Assert.Equal(" the answer<|im_end|>", ChatMl.Decode(example.Labels.Where(l => l != Ignore)));
    }

    [Fact]
    public void NoBosWhenTheTokenizerDoesNotAddIt()
    {
        string dir = HfFixtures.CopyToTemp(HfFixtures.ByteLevelChatMl);
        string config = Path.Combine(dir, "tokenizer_config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"add_bos_token\": true", "\"add_bos_token\": false"));
        var tokenizer = HfTokenizer.FromFolder(dir);

        var example = new SftExampleBuilder(tokenizer).FromPair("hi", "the answer");
        Assert.Equal([.. ChatMl.Encode(Prompt + Completion, addSpecialTokens: false)], example.InputIds);
    }

    [Fact]
    public void TemplateThatRendersTheLastMessageDifferentlyIsNotPrefixStable()
    {
        const string template = "{% for m in messages %}{% if loop.last %}[{{ m['content'] }}]{% else %}{{ m['content'] }}{% endif %}{% endfor %}";
        var builder = new SftExampleBuilder(ChatMl, new SftDataOptions { ChatTemplateOverride = template });

        var ex = Assert.Throws<SftDataException>(() => builder.BuildFromPairs([("hi", "ok"), ("hi", "ok")]));
        Assert.Contains("row 0", ex.Message);
        Assert.Contains("not prefix-stable", ex.Message);
        Assert.Contains("\"[hi]\"", ex.Message); // the prompt renders "[hi]" but the conversation "hi[ok]"
    }

    [Fact]
    public void TemplateRaisingAnExceptionNamesTheRow()
    {
        const string template = "{% for m in messages %}{% if m['content'] == 'bad' %}{{ raise_exception('no bad words') }}{% endif %}{{ m['content'] }}{% endfor %}";
        var builder = new SftExampleBuilder(ChatMl, new SftDataOptions { ChatTemplateOverride = template });

        var ex = Assert.Throws<SftDataException>(() => builder.BuildFromPairs([("hi", "ok"), ("bad", "ok")]));
        Assert.Contains("row 1", ex.Message);
        Assert.Contains("no bad words", ex.Message);
    }

    [Fact]
    public void MultiTurnSupervisesTheLastReplyByDefaultAndEveryReplyOnRequest()
    {
        ChatMessage[] chat =
        [
            new("system", "be brief"), new("user", "hi"), new("assistant", "hello"),
            new("user", "and?"), new("assistant", "the answer"),
        ];

        var last = new SftExampleBuilder(ChatMl).FromMessages(chat);
        Assert.Equal(["the answer<|im_end|>\n"], SupervisedSpans(last));

        var all = new SftExampleBuilder(ChatMl, new SftDataOptions { SupervisedTurns = SupervisedTurns.AllAssistant }).FromMessages(chat);
        Assert.Equal(["hello<|im_end|>\n", "the answer<|im_end|>\n"], SupervisedSpans(all));
        Assert.Equal(last.InputIds, all.InputIds);

        var template = ChatTemplate.Parse(ChatMl.ChatTemplate!);
        Assert.Equal("<s>" + template.Render(chat, false, "<s>", "<|im_end|>"), ChatMl.Decode(all.InputIds));
    }

    [Fact]
    public void TokenStraddlingThePromptBoundaryIsSupervisedAndTheIdsDecodeToTheExactText()
    {
        // Byte-level: "hi " alone is h i Ġ (76 77 225), but "hi the answer" is h i Ġthe Ġanswer (76 77 263 282):
        // the common prefix is h i, and Ġthe (space + "the") is labelled as the response.
        var bytes = new SftExampleBuilder(ChatMl, new SftDataOptions { UseChatTemplate = false, Separator = " " }).FromPair("hi", "the answer");
        Assert.Equal([76, 77, 225], ChatMl.Encode("hi ", addSpecialTokens: false));
        Assert.Equal([1, 76, 77, 263, 282, 4], bytes.InputIds);
        Assert.Equal([Ignore, Ignore, Ignore, 263, 282, 4], bytes.Labels);
        Assert.Equal("hi the answer", ChatMl.Decode(bytes.InputIds, skipSpecialTokens: true));

        var sp = HfTokenizer.FromFolder(HfFixtures.SpLegacy);
        var builder = new SftExampleBuilder(sp, new SftDataOptions { UseChatTemplate = false, Separator = " " });
        var example = builder.FromPair("hello", "world");

        // "hello world": Prepend("▁") + Replace(" ", "▁") gives ▁hello▁world = [275, 280] (HfTokenizerTests).
        // The prompt "hello " alone encodes as ▁hello▁ = [275, 259], not a prefix of the whole: the straddling
        // token is replaced by the whole text's ▁world and supervised, so the ids decode to exactly "hello world"
        // (encoding "world" on its own would add a second ▁). EOS </s> = 2 appended, BOS <s> = 1 first.
        Assert.Equal([275, 259], sp.Encode("hello ", addSpecialTokens: false));
        Assert.Equal([1, 275, 280, 2], example.InputIds);
        Assert.Equal([Ignore, Ignore, 280, 2], example.Labels);
        Assert.Equal("hello world</s>", sp.Decode(example.InputIds.Skip(1)));
    }

    [Fact]
    public void MessagesJsonRowsBuildTheSameAsMessages()
    {
        var builder = new SftExampleBuilder(ChatMl);
        var dataset = builder.BuildFromMessagesJson(
        [
            """[{"role":"user","content":"hi"},{"role":"assistant","content":"the answer","extra":1}]""",
            """[{"role":"user","content":"hi"},{"role":"assistant","content":""}]""",
        ]);

        Assert.Equal(builder.FromPair("hi", "the answer").InputIds, dataset.Examples[0].InputIds);
        Assert.Equal(2, dataset.Examples.Count);
        Assert.Equal(5 + 2, dataset.SupervisedTokenCount); // an empty reply still learns "<|im_end|>\n"
        Assert.Equal(0, dataset.ExamplesWithoutSupervisedTokens);
    }

    [Theory]
    [InlineData("""[{"role":"user","content":"hi"},{"role":"assistant"}]""", "messages[1] has no 'content'")]
    [InlineData("""[{"role":"user","content":"hi"},{"role":"assistant","content":7}]""", "messages[1].content must be a string, got a JSON number")]
    [InlineData("""[{"role":"user","content":"hi"},"ok"]""", "messages[1] must be an object")]
    [InlineData("""{"role":"user"}""", "expected a JSON array of messages, got a JSON object")]
    [InlineData("""[{"role":"user","content":"hi"}""", "not valid JSON")]
    [InlineData("""[]""", "the messages array is empty")]
    [InlineData("", "the messages cell is empty")]
    [InlineData("""[{"role":"assistant","content":"hi"},{"role":"user","content":"ok"}]""", "messages[1].role is 'user'")]
    public void MalformedMessagesNameTheRowColumnAndField(string json, string expected)
    {
        var builder = new SftExampleBuilder(ChatMl);
        string good = """[{"role":"user","content":"hi"},{"role":"assistant","content":"ok"}]""";

        var ex = Assert.Throws<SftDataException>(() => builder.BuildFromMessagesJson([good, json], "chat"));
        Assert.Contains("row 1, column 'chat'", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void ADataSetWithoutSupervisedTokensFails()
    {
        var builder = new SftExampleBuilder(ChatMl, new SftDataOptions { UseChatTemplate = false, AppendEos = false });

        var ex = Assert.Throws<SftDataException>(() => builder.BuildFromPairs([("hi", ""), ("the answer", "")]));
        Assert.Contains("None of the 2 examples has a supervised (response) token", ex.Message);

        var partly = builder.BuildFromPairs([("hi", ""), ("hi", "the answer")]);
        Assert.Equal(1, partly.ExamplesWithoutSupervisedTokens);
        Assert.Equal(3, partly.SupervisedTokenCount);
    }

    [Fact]
    public void InvalidOptionsNameTheField()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SftExampleBuilder(ChatMl, new SftDataOptions { MaxLength = 1 }));
        Assert.Equal(nameof(SftDataOptions.MaxLength), ex.ParamName);
    }

    private static List<string> SupervisedSpans(SftExample example)
    {
        var spans = new List<string>();
        var current = new List<int>();
        foreach (int label in example.Labels.Append(Ignore))
        {
            if (label != Ignore) current.Add(label);
            else if (current.Count > 0)
            {
                spans.Add(ChatMl.Decode(current));
                current.Clear();
            }
        }
        return spans;
    }
}
