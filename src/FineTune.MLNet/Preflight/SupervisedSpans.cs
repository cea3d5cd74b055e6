using System.Text;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;

namespace FineTune.MLNet.Preflight;

/// <summary>
/// An example's text as the model sees it, supervised tokens (labels that carry loss) between <see cref="Open"/> and
/// <see cref="Close"/>: runs of tokens with and without loss are decoded separately, special tokens kept.
/// </summary>
public static class SupervisedSpans
{
    /// <summary>Start of a supervised span.</summary>
    public const string Open = "[[";

    /// <summary>End of a supervised span.</summary>
    public const string Close = "]]";

    /// <summary>The marked text of <paramref name="example"/>.</summary>
    public static string Render(SftExample example, HfTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(example);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var text = new StringBuilder();
        int start = 0;
        while (start < example.Length)
        {
            bool supervised = example.Labels[start] != CausalLmLoss.IgnoreIndex;
            int end = start;
            while (end < example.Length && (example.Labels[end] != CausalLmLoss.IgnoreIndex) == supervised) end++;
            var piece = tokenizer.Decode(example.InputIds[start..end], skipSpecialTokens: false);
            text.Append(supervised ? Open + piece + Close : piece);
            start = end;
        }
        return text.ToString();
    }
}
