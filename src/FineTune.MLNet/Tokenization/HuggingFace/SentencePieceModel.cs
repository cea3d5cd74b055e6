using FineTune.MLNet.Formats;
using Microsoft.ML.Tokenizers;

namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>
/// A folder with only a SentencePiece <c>tokenizer.model</c> (older Llama-2 / Mistral checkpoints): encoding and
/// decoding are Microsoft.ML.Tokenizers' <see cref="LlamaTokenizer"/>; each segment between added tokens gets the
/// SentencePiece dummy prefix "▁", as the slow HF LlamaTokenizer (legacy mode) does.
/// </summary>
internal sealed class SentencePieceModel : IHfTokenModel
{
    public const string FileName = "tokenizer.model";

    /// <summary>Cap on tokenizer.model: real ones are 0.5 to 5 MB.</summary>
    public const long MaxFileBytes = 64L << 20;

    private readonly LlamaTokenizer _tokenizer;
    private readonly IReadOnlyDictionary<int, string> _addedById;
    private readonly Dictionary<string, int> _vocab;

    public SentencePieceModel(string path, IEnumerable<HfAddedToken> addedTokens)
    {
        var bytes = BoundedFile.ReadAllBytes(path, MaxFileBytes, "SentencePiece model");
        try
        {
            // Microsoft.ML.Tokenizers parses the protobuf; whatever it throws for bad bytes (InvalidProtocolBufferException
            // is an IOException, others are ArgumentException, IndexOutOfRange, ...) means the file is not a model.
            _tokenizer = LlamaTokenizer.Create(new MemoryStream(bytes, writable: false), addBeginOfSentence: false, addEndOfSentence: false);
            _vocab = new Dictionary<string, int>(_tokenizer.Vocabulary, StringComparer.Ordinal);
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"{FileName}: not a SentencePiece BPE model that Microsoft.ML.Tokenizers can read ({e.Message}).", e);
        }
        int modelIds = _vocab.Count == 0 ? 0 : _vocab.Values.Max() + 1;
        foreach (var (name, id) in new[] { ("bos_id", BosId), ("eos_id", EosId), ("unk_id", _tokenizer.UnknownId) })
        {
            if (id < 0 || id >= modelIds)
                throw new InvalidDataException($"{FileName}: trainer_spec.{name} is {id}, outside the model's {modelIds} pieces.");
        }
        _addedById = addedTokens.Where(a => a.Id >= modelIds).ToDictionary(a => a.Id, a => a.Content);
        foreach (var (id, content) in _addedById) _vocab[content] = id;
        IdLimit = Math.Max(modelIds, _addedById.Count == 0 ? 0 : _addedById.Keys.Max() + 1);
    }

    public int IdLimit { get; }

    public int BosId => _tokenizer.BeginningOfSentenceId;

    public int EosId => _tokenizer.EndOfSentenceId;

    public void EncodeSegment(string segment, bool atOrigin, List<int> ids)
    {
        foreach (int id in _tokenizer.EncodeToIds(segment, addBeginningOfSentence: false, addEndOfSentence: false))
        {
            // A model whose byte-fallback pieces (<0x00>..<0xFF>) are missing or out of order maps bytes past its pieces.
            if (id < 0 || id >= IdLimit)
                throw new InvalidDataException($"{FileName}: encoding gave id {id}, outside the model's {IdLimit} ids (a corrupt byte-fallback table).");
            ids.Add(id);
        }
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        var text = new System.Text.StringBuilder();
        var run = new List<int>();
        foreach (int id in ids)
        {
            if (id < 0 || id >= IdLimit) throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary (ids 0..{IdLimit - 1}).");
            if (!_addedById.TryGetValue(id, out var content)) { run.Add(id); continue; }
            Flush();
            text.Append(content);
        }
        Flush();
        return text.ToString();

        void Flush()
        {
            if (run.Count == 0) return;
            text.Append(_tokenizer.Decode(run, considerSpecialTokens: true));
            run.Clear();
        }
    }

    public bool TryGetId(string token, out int id) => _vocab.TryGetValue(token, out id);
}
