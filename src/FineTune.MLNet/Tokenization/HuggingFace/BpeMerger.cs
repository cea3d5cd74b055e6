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

    private readonly IReadOnlyDictionary<string, int> _vocab;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly int? _unkId;
    private readonly bool _fuseUnk;
    private readonly bool _byteFallback;
    private readonly bool _ignoreMerges;
    private readonly int[]? _byteIds;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <param name="vocab">Token to id.</param>
    /// <param name="merges">Merge pairs in rank order; each merged token must be in <paramref name="vocab"/>.</param>
    /// <param name="unkId">Id of <c>unk_token</c>, or null when the model has none (unknown characters are dropped, as in HF).</param>
    /// <param name="fuseUnk">Consecutive unknown characters become one unk id.</param>
    /// <param name="byteFallback">Characters not in the vocabulary become their UTF-8 bytes as &lt;0xNN&gt; tokens.</param>
    /// <param name="ignoreMerges">A word that is itself in the vocabulary is emitted whole (Llama-3).</param>
    public BpeMerger(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        int? unkId, bool fuseUnk, bool byteFallback, bool ignoreMerges)
    {
        _vocab = vocab;
        _unkId = unkId;
        _fuseUnk = fuseUnk;
        _byteFallback = byteFallback;
        _ignoreMerges = ignoreMerges;
        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            int leftId = Lookup(left, rank), rightId = Lookup(right, rank), newId = Lookup(left + right, rank);
            _merges.TryAdd(PairKey(leftId, rightId), (rank, newId));
        }
        if (byteFallback)
        {
            _byteIds = new int[256];
            for (int b = 0; b < 256; b++) _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        }
    }

    /// <summary>Appends the ids of <paramref name="word"/> to <paramref name="output"/>.</summary>
    public void Tokenize(string word, List<int> output)
    {
        if (word.Length == 0) return;
        if (_ignoreMerges && _vocab.TryGetValue(word, out int whole)) { output.Add(whole); return; }
        if (_cache.TryGetValue(word, out var cached)) { output.AddRange(cached); return; }
        var ids = Merge(InitialSymbols(word));
        if (_cache.Count < MaxCachedWords) _cache.TryAdd(word, ids);
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
            if (_vocab.TryGetValue(piece, out int id))
            {
                if (pendingUnk is int u) { symbols.Add(u); pendingUnk = null; }
                symbols.Add(id);
                continue;
            }
            if (_byteIds is not null)
            {
                int n = rune.EncodeToUtf8(utf8);
                bool all = true;
                for (int i = 0; i < n; i++) all &= _byteIds[utf8[i]] >= 0;
                if (all)
                {
                    // HF adds byte tokens without flushing a pending unk first; keep that order.
                    for (int i = 0; i < n; i++) symbols.Add(_byteIds[utf8[i]]);
                    continue;
                }
            }
            if (_unkId is int unk)
            {
                if (pendingUnk is int u && !_fuseUnk) symbols.Add(u);
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
            if (right >= 0 && _merges.TryGetValue(PairKey(ids[pos], ids[right]), out var m)) queue.Enqueue(pos, (m.Rank, pos));
        }
        for (int i = 0; i + 1 < n; i++) Push(i);

        while (queue.TryDequeue(out int pos, out var priority))
        {
            // Entries go stale when a neighbour merged since they were queued: re-check the pair.
            int right = alive[pos] ? next[pos] : -1;
            if (right < 0 || !_merges.TryGetValue(PairKey(ids[pos], ids[right]), out var m) || m.Rank != priority.Rank) continue;
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
        _vocab.TryGetValue(token, out int id) ? id
            : throw new InvalidDataException($"tokenizer.json: model.merges[{rank}]: token '{token}' is not in model.vocab.");

    private static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;
}
