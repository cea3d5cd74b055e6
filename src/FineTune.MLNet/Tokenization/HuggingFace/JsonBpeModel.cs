namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>
/// <c>tokenizer.json</c> BPE pipeline: normalizer, pre-tokenizer, <see cref="BpeMerger"/> and decoder chain,
/// each as the file describes.
/// </summary>
internal sealed class JsonBpeModel : IHfTokenModel
{
    private readonly HfTokenizerJson _json;
    private readonly BpeMerger _merger;
    private readonly Dictionary<int, string> _idToToken = new();
    private readonly Dictionary<string, int> _tokenToId;

    public JsonBpeModel(HfTokenizerJson json)
    {
        _json = json;
        int? unkId = json.UnkToken is { } unk ? json.Vocab[unk] : null;
        _merger = new BpeMerger(json.Vocab, json.Merges, unkId, json.FuseUnk, json.ByteFallback, json.IgnoreMerges);
        _tokenToId = new Dictionary<string, int>(json.Vocab, StringComparer.Ordinal);
        foreach (var (token, id) in json.Vocab) _idToToken[id] = token;
        foreach (var added in json.AddedTokens)
        {
            _idToToken[added.Id] = added.Content;
            _tokenToId[added.Content] = added.Id;
        }
        IdLimit = _idToToken.Count == 0 ? 0 : _idToToken.Keys.Max() + 1;
    }

    public int IdLimit { get; }

    public void EncodeSegment(string segment, bool atOrigin, List<int> ids)
    {
        string normalized = _json.Normalizer?.Normalize(segment) ?? segment;
        if (_json.PreTokenizer is null) { _merger.Tokenize(normalized, ids); return; }
        var pieces = new List<PreToken>();
        _json.PreTokenizer.Split(new PreToken(normalized, atOrigin), pieces);
        foreach (var piece in pieces) _merger.Tokenize(piece.Text, ids);
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        var tokens = new List<string>(ids.Count);
        foreach (int id in ids)
            tokens.Add(_idToToken.TryGetValue(id, out var token) ? token
                : throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary (ids 0..{IdLimit - 1})."));
        return _json.Decoder.Decode(tokens);
    }

    public bool TryGetId(string token, out int id) => _tokenToId.TryGetValue(token, out id);
}
