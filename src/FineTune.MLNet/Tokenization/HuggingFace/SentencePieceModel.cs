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

    private readonly LlamaTokenizer tokenizer;
    private readonly IReadOnlyDictionary<int, string> addedById;
    private readonly Dictionary<string, int> vocab;

    public SentencePieceModel(string path, IEnumerable<HfAddedToken> addedTokens)
    {
        using (var stream = File.OpenRead(path))
        {
            try { this.tokenizer = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false); }
            catch (Exception e) when (e is not IOException)
            {
                throw new InvalidDataException($"{FileName}: not a SentencePiece BPE model that Microsoft.ML.Tokenizers can read ({e.Message}).", e);
            }
        }
        vocab = new Dictionary<string, int>(this.tokenizer.Vocabulary, StringComparer.Ordinal);
        addedById = addedTokens.Where(a => a.Id >= vocab.Count).ToDictionary(a => a.Id, a => a.Content);
        foreach (var (id, content) in addedById) vocab[content] = id;
        IdLimit = Math.Max(this.tokenizer.Vocabulary.Count, addedById.Count == 0 ? 0 : addedById.Keys.Max() + 1);
    }

    public int IdLimit { get; }

    public int BosId => this.tokenizer.BeginningOfSentenceId;

    public int EosId => this.tokenizer.EndOfSentenceId;

    public void EncodeSegment(string segment, bool atOrigin, List<int> ids) =>
        ids.AddRange(this.tokenizer.EncodeToIds(segment, addBeginningOfSentence: false, addEndOfSentence: false));

    public string Decode(IReadOnlyList<int> ids)
    {
        var text = new System.Text.StringBuilder();
        var run = new List<int>();
        foreach (int id in ids)
        {
            if (id < 0 || id >= IdLimit) throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary (ids 0..{IdLimit - 1}).");
            if (!addedById.TryGetValue(id, out var content)) { run.Add(id); continue; }
            Flush();
            text.Append(content);
        }
        Flush();
        return text.ToString();

        void Flush()
        {
            if (run.Count == 0) return;
            text.Append(this.tokenizer.Decode(run, considerSpecialTokens: true));
            run.Clear();
        }
    }

    public bool TryGetId(string token, out int id) => vocab.TryGetValue(token, out id);
}
