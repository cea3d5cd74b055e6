using System.Collections.Concurrent;
using System.Text;

namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>
/// The BPE model of a Hugging Face <c>tokenizer.json</c>: splits one pre-tokenized word into characters and
/// applies merges lowest rank first (leftmost on ties), as <c>tokenizers/src/models/bpe/model.rs</c> does,
/// with <c>byte_fallback</c> (<c>&lt;0xNN&gt;</c> tokens), <c>unk_token</c> / <c>fuse_unk</c> and
/// <c>ignore_merges</c>. Thread-safe; words are cached.
/// </summary>
internal sealed class BpeMerger
{
    private const int MaxCachedWords = 100_000;

    private readonly IReadOnlyDictionary<string, int> vocab;
    private readonly Dictionary<long, (int Rank, int NewId)> merges;
    private readonly int? unkId;
    private readonly bool fuseUnk;
    private readonly bool byteFallback;
    private readonly bool ignoreMerges;
    private readonly int[]? byteIds;
    private readonly ConcurrentDictionary<string, int[]> cache = new(StringComparer.Ordinal);

    /// <param name="vocab">Token to id.</param>
    /// <param name="merges">Merge pairs in rank order; each merged token must be in <paramref name="vocab"/>.</param>
    /// <param name="unkId">Id of <c>unk_token</c>, or null when the model has none (unknown characters are dropped, as in HF).</param>
    /// <param name="fuseUnk">Consecutive unknown characters become one unk id.</param>
    /// <param name="byteFallback">Characters not in the vocabulary become their UTF-8 bytes as &lt;0xNN&gt; tokens.</param>
    /// <param name="ignoreMerges">A word that is itself in the vocabulary is emitted whole (Llama-3).</param>
    public BpeMerger(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        int? unkId, bool fuseUnk, bool byteFallback, bool ignoreMerges)
    {
        this.vocab = vocab;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            int leftId = Lookup(left, rank), rightId = Lookup(right, rank), newId = Lookup(left + right, rank);
            this.merges.TryAdd(PairKey(leftId, rightId), (rank, newId));
        }
        if (byteFallback)
        {
            byteIds = new int[256];
            for (int b = 0; b < 256; b++) byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        }
    }

    /// <summary>Appends the ids of <paramref name="word"/> to <paramref name="output"/>.</summary>
    public void Tokenize(string word, List<int> output)
    {
        if (word.Length == 0) return;
        if (this.ignoreMerges && this.vocab.TryGetValue(word, out int whole)) { output.Add(whole); return; }
        if (cache.TryGetValue(word, out var cached)) { output.AddRange(cached); return; }
        var ids = Merge(InitialSymbols(word));
        if (cache.Count < MaxCachedWords) cache.TryAdd(word, ids);
        output.AddRange(ids);
    }

    private List<int> InitialSymbols(string word)
    {
        var symbols = new List<int>(word.Length);
        int? pendingUnk = null;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in word.EnumerateRunes())
        {
            string piece = rune.ToString();
            if (this.vocab.TryGetValue(piece, out int id))
            {
                if (pendingUnk is int u) { symbols.Add(u); pendingUnk = null; }
                symbols.Add(id);
                continue;
            }
            if (byteIds is not null)
            {
                int n = rune.EncodeToUtf8(utf8);
                bool all = true;
                for (int i = 0; i < n; i++) all &= byteIds[utf8[i]] >= 0;
                if (all)
                {
                    // HF adds byte tokens without flushing a pending unk first; keep that order.
                    for (int i = 0; i < n; i++) symbols.Add(byteIds[utf8[i]]);
                    continue;
                }
            }
            if (this.unkId is int unk)
            {
                if (pendingUnk is int u && !this.fuseUnk) symbols.Add(u);
                pendingUnk = unk;
            }
        }
        if (pendingUnk is int last) symbols.Add(last);
        return symbols;
    }

    private int[] Merge(List<int> symbols)
    {
        int n = symbols.Count;
        var ids = symbols.ToArray();
        var prev = new int[n];
        var next = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; alive[i] = true; }

        var queue = new PriorityQueue<int, (int Rank, int Pos)>();
        void Push(int pos)
        {
            int right = next[pos];
            if (right >= 0 && this.merges.TryGetValue(PairKey(ids[pos], ids[right]), out var m)) queue.Enqueue(pos, (m.Rank, pos));
        }
        for (int i = 0; i + 1 < n; i++) Push(i);

        while (queue.TryDequeue(out int pos, out var priority))
        {
            // Entries go stale when a neighbour merged since they were queued: re-check the pair.
            int right = alive[pos] ? next[pos] : -1;
            if (right < 0 || !this.merges.TryGetValue(PairKey(ids[pos], ids[right]), out var m) || m.Rank != priority.Rank) continue;
            ids[pos] = m.NewId;
            alive[right] = false;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) Push(prev[pos]);
            Push(pos);
        }

        var result = new List<int>(n);
        for (int i = 0; i >= 0 && i < n; i = next[i]) result.Add(ids[i]);
        return result.ToArray();
    }

    private int Lookup(string token, int rank) =>
        this.vocab.TryGetValue(token, out int id) ? id
            : throw new InvalidDataException($"tokenizer.json: model.merges[{rank}]: token '{token}' is not in model.vocab.");

    private static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;
}
