namespace FineTune.MLNet.Import.Gguf;

/// <summary>
/// BPE merges for a SentencePiece-style vocabulary with scores, as transformers' <c>SentencePieceExtractor</c>
/// (<c>convert_slow_tokenizer.py</c>) derives them: every split of a piece into two pieces of the vocabulary is a merge,
/// ordered by the merged piece's score (highest first; ties keep vocabulary order), and within one piece by the
/// ids of its halves. SentencePiece BPE and llama.cpp's <c>llama</c> tokenizer merge the pair whose result scores
/// highest, so a BPE over these merges encodes the same way.
/// </summary>
public static class SentencePieceMerges
{
    /// <param name="tokens">Pieces by id.</param>
    /// <param name="scores">Score by id.</param>
    /// <param name="mergeable">Which ids take part (normal pieces; not control, byte or unknown tokens).</param>
    public static List<(string Left, string Right)> From(IReadOnlyList<string> tokens, IReadOnlyList<float> scores, Func<int, bool> mergeable)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count != tokens.Count) throw new ArgumentException($"{scores.Count} scores for {tokens.Count} tokens.", nameof(scores));
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++)
            if (mergeable(i)) ids.TryAdd(tokens[i], i);
        var merges = new List<(string Left, string Right, float Score, int Order)>();
        for (int id = 0; id < tokens.Count; id++)
        {
            if (!mergeable(id)) continue;
            string piece = tokens[id];
            var local = new List<(string, string, int, int)>();
            for (int cut = 1; cut < piece.Length; cut++)
            {
                if (char.IsLowSurrogate(piece[cut])) continue;
                string left = piece[..cut], right = piece[cut..];
                if (ids.TryGetValue(left, out int l) && ids.TryGetValue(right, out int r)) local.Add((left, right, l, r));
            }
            foreach (var (left, right, _, _) in local.OrderBy(m => m.Item3).ThenBy(m => m.Item4))
                merges.Add((left, right, scores[id], merges.Count));
        }
        return [.. merges.OrderByDescending(m => m.Score).ThenBy(m => m.Order).Select(m => (m.Left, m.Right))];
    }
}
