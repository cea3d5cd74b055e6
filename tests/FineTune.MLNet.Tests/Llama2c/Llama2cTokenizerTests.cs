using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FineTune.MLNet.Import.Llama2c;
using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tokenization.HuggingFace;
using Xunit;

namespace FineTune.MLNet.Tests.Llama2c;

/// <summary>
/// The tokenizer.json the importer writes encodes exactly as llama2.c's run.c (ids of llama2c.py --encode, committed in
/// tokenizer-golden.json) and decodes back to the text: hand-written strings (digits, punctuation, emoji through byte
/// fallback, leading/trailing spaces, newlines), the first 10 TinyStories stories, and, when ../shared has the sample,
/// all 1,500 stories (id count and hash per story).
/// </summary>
public sealed class Llama2cTokenizerTests
{
    private static readonly Lazy<HfTokenizer> s_bundled = new(() => HfTokenizer.FromFolder(PretrainedDecoders.ResolveFolder(PretrainedDecoders.TinyStories260K)));

    [Fact]
    public void Strings_encode_as_run_c_and_decode_back()
    {
        var (encoded, roundTrips) = Check(Llama2cFixtures.TokenizerGolden.GetProperty("strings"));
        Assert.True(encoded >= 27 && roundTrips >= 27, $"{encoded} encoded, {roundTrips} round trips");
    }

    [Fact]
    public void Special_pieces_written_in_the_text_become_special_ids_as_in_hf_llama_tokenizers()
    {
        // The one difference from run.c, which spells "<s>" out of '<', 's', '>': tokenizer.json lists <unk>, <s>, </s>
        // as special added tokens, as every HF Llama tokenizer does, so the text "<s>" is id 1.
        var ids = s_bundled.Value.Encode("<s> and </s>");
        Assert.Equal(1, ids[0]);
        Assert.Equal(1, ids[1]);
        Assert.Equal(2, ids[^1]);
    }

    [Fact]
    public void First_ten_stories_encode_as_run_c_and_decode_back()
    {
        var (encoded, roundTrips) = Check(Llama2cFixtures.TokenizerGolden.GetProperty("stories"));
        Assert.Equal(10, encoded);
        Assert.Equal(10, roundTrips);
    }

    [Fact]
    public void All_1500_sample_stories_encode_as_run_c()
    {
        if (Llama2cShared.Stories is not { } file) return;
        var stories = File.ReadAllText(file, Encoding.UTF8).Split("<|endoftext|>").Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        var golden = Llama2cFixtures.TokenizerGolden.GetProperty("all_stories").EnumerateArray().ToList();
        Assert.Equal(1500, stories.Count);
        Assert.Equal(golden.Count, stories.Count);
        var wrong = new List<int>();
        long tokens = 0;
        for (int i = 0; i < stories.Count; i++)
        {
            var ids = s_bundled.Value.Encode(stories[i]);
            tokens += ids.Count;
            if (ids.Count != golden[i].GetProperty("count").GetInt32() || Key(ids) != golden[i].GetProperty("sha").GetString()) wrong.Add(i);
        }
        Assert.True(wrong.Count == 0, $"{wrong.Count} stories encode differently, first: {string.Join(", ", wrong.Take(10))}");
        Assert.Equal(644_754, tokens);
    }

    [Fact]
    public void Reimported_tokenizer_equals_the_bundled_one()
    {
        var vocabulary = Llama2cTokenizerReader.Read(Llama2cFixtures.Tokenizer, 512);
        var (json, config) = Llama2cTokenizerJson.Build(vocabulary, 512);
        var bundled = PretrainedDecoders.Files(PretrainedDecoders.TinyStories260K);
        Assert.Equal(Encoding.UTF8.GetString(bundled["tokenizer.json"]), json);
        Assert.Equal(Encoding.UTF8.GetString(bundled["tokenizer_config.json"]), config);
    }

    private static (int Encoded, int RoundTrips) Check(JsonElement cases)
    {
        var tokenizer = s_bundled.Value;
        int encoded = 0, roundTrips = 0;
        foreach (var c in cases.EnumerateArray())
        {
            var text = c.GetProperty("text").GetString()!;
            var want = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var ids = tokenizer.Encode(text);
            Assert.True(want.SequenceEqual(ids), $"'{text}': run.c [{string.Join(",", want)}], ours [{string.Join(",", ids)}]");
            encoded++;
            Assert.Equal(text, tokenizer.Decode(ids, skipSpecialTokens: true));
            roundTrips++;
        }
        return (encoded, roundTrips);
    }

    private static string Key(IReadOnlyList<int> ids) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(",", ids)))).ToLowerInvariant()[..16];
}
