using FineTune.MLNet.Losses;
using FineTune.MLNet.Tokenization.HuggingFace;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>Token ids and labels of rendered segments, and where the last supervised segment starts.</summary>
internal sealed record EncodedSegments(List<int> Ids, List<int> Labels, int LastSupervisedStart);

/// <summary>
/// Tokenizes rendered segments as the whole text tokenizes (what TRL trains on), and labels each token by the
/// segment it comes from.
/// </summary>
/// <remarks>
/// After each segment the text so far is encoded again; the ids by which it extends the previous encoding belong to
/// that segment (TRL's prompt / prompt+completion comparison). With a chat template the boundaries fall on special
/// tokens or newlines, and this equals encoding each segment on its own. When a BPE merge or a SentencePiece word
/// crosses a boundary (plain "hello " + "world": <c>▁hello▁</c> then <c>▁hello ▁world</c>), the earlier encoding is
/// not a prefix of the later one; the ids after their longest common prefix are replaced by the later encoding's
/// and labelled as the later segment. So the ids always decode to exactly the rendered text (no doubled spaces), and
/// a token that straddles a prompt / response boundary is supervised; the prompt ids then differ at their last
/// token from what generation would feed, which only happens for templates whose prompt does not end on a token
/// boundary.
/// </remarks>
internal static class SegmentEncoder
{
    public static EncodedSegments Encode(HfTokenizer tokenizer, IReadOnlyList<TextSegment> segments)
    {
        var ids = new List<int>();
        var labels = new List<int>();
        var text = new System.Text.StringBuilder();
        int lastSupervisedStart = 0;
        foreach (var segment in segments)
        {
            if (segment.Text.Length > 0)
            {
                text.Append(segment.Text);
                var whole = tokenizer.Encode(text.ToString(), addSpecialTokens: false);
                int common = CommonPrefixLength(whole, ids);
                ids.RemoveRange(common, ids.Count - common);
                labels.RemoveRange(common, labels.Count - common);
                if (segment.Supervised) lastSupervisedStart = common;
                for (int i = common; i < whole.Count; i++)
                {
                    ids.Add(whole[i]);
                    labels.Add(segment.Supervised ? whole[i] : CausalLmLoss.IgnoreIndex);
                }
            }
            else if (segment.Supervised)
            {
                lastSupervisedStart = ids.Count;
            }
        }
        return new EncodedSegments(ids, labels, lastSupervisedStart);
    }

    internal static bool StartsWith(IReadOnlyList<int> ids, IReadOnlyList<int> prefix) =>
        prefix.Count <= ids.Count && CommonPrefixLength(ids, prefix) == prefix.Count;

    private static int CommonPrefixLength(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        int n = Math.Min(a.Count, b.Count), i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }
}
