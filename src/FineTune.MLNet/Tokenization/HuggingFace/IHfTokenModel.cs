namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>The model behind <see cref="HfTokenizer"/>: <c>tokenizer.json</c> BPE or a SentencePiece <c>tokenizer.model</c>.</summary>
internal interface IHfTokenModel
{
    /// <summary>Appends the ids of one plain segment (text between added tokens).</summary>
    /// <param name="segment">The text.</param>
    /// <param name="ids">Receives the ids.</param>
    /// <param name="atOrigin">The segment starts at offset 0 of the input.</param>
    void EncodeSegment(string segment, bool atOrigin, List<int> ids);

    /// <summary>Text of <paramref name="ids"/> (special tokens already filtered out by the caller if asked).</summary>
    string Decode(IReadOnlyList<int> ids);

    /// <summary>Id of a token of the model vocabulary, added tokens included.</summary>
    bool TryGetId(string token, out int id);

    /// <summary>Largest id known to the model plus one.</summary>
    int IdLimit { get; }
}
