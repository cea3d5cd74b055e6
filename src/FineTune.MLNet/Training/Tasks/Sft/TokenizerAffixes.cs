using FineTune.MLNet.Tokenization.HuggingFace;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// The ids a tokenizer adds around a text when asked for special tokens (its <c>add_bos_token</c> /
/// <c>add_eos_token</c> or <c>TemplateProcessing</c>), found by encoding a probe text with and without them.
/// </summary>
internal sealed record TokenizerAffixes(int[] Prefix, int[] Suffix)
{
    private const string Probe = "a";

    public static TokenizerAffixes Of(HfTokenizer tokenizer)
    {
        var with = tokenizer.Encode(Probe, addSpecialTokens: true);
        var without = tokenizer.Encode(Probe, addSpecialTokens: false);
        for (int start = 0; start + without.Count <= with.Count; start++)
        {
            bool match = true;
            for (int i = 0; i < without.Count && match; i++) match = with[start + i] == without[i];
            if (match) return new TokenizerAffixes(with.Take(start).ToArray(), with.Skip(start + without.Count).ToArray());
        }
        throw new InvalidOperationException(
            $"Cannot tell the tokenizer's added special tokens apart: Encode(\"{Probe}\") with special tokens [{string.Join(", ", with)}] does not contain the ids without them [{string.Join(", ", without)}].");
    }
}
