namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>
/// <c>tokenizer.json</c> BPE pipeline: normalizer, pre-tokenizer, <see cref="BpeMerger"/> and decoder chain,
/// each as the file describes.
/// </summary>
internal sealed class JsonBpeModel : IHfTokenModel
{
    private readonly HfTokenizerJson json;
    private readonly BpeMerger merger;
    private readonly Dictionary<int, string> idToToken = new();
    private readonly Dictionary<string, int> tokenToId;

    public JsonBpeModel(HfTokenizerJson json)
    {
        this.json = json;
        int? unkId = json.UnkToken is { } unk ? json.Vocab[unk] : null;
        merger = new BpeMerger(json.Vocab, json.Merges, unkId, json.FuseUnk, json.ByteFallback, json.IgnoreMerges);
        tokenToId = new Dictionary<string, int>(json.Vocab, StringComparer.Ordinal);
        foreach (var (token, id) in json.Vocab) idToToken[id] = token;
        foreach (var added in json.AddedTokens)
        {
            idToToken[added.Id] = added.Content;
            tokenToId[added.Content] = added.Id;
        }
        IdLimit = idToToken.Count == 0 ? 0 : idToToken.Keys.Max() + 1;
    }

    public int IdLimit { get; }

    public void EncodeSegment(string segment, bool atOrigin, List<int> ids)
    {
        string normalized = this.json.Normalizer?.Normalize(segment) ?? segment;
        if (this.json.PreTokenizer is null) { merger.Tokenize(normalized, ids); return; }
        var pieces = new List<PreToken>();
        this.json.PreTokenizer.Split(new PreToken(normalized, atOrigin), pieces);
        foreach (var piece in pieces) merger.Tokenize(piece.Text, ids);
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        var tokens = new List<string>(ids.Count);
        foreach (int id in ids)
            tokens.Add(idToToken.TryGetValue(id, out var token) ? token
                : throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary (ids 0..{IdLimit - 1})."));
        return this.json.Decoder.Decode(tokens);
    }

    public bool TryGetId(string token, out int id) => tokenToId.TryGetValue(token, out id);
}
