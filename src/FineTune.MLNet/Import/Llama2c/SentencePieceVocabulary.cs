namespace FineTune.MLNet.Import.Llama2c;

/// <summary>Kinds of SentencePiece pieces (sentencepiece_model.proto <c>Type</c>), as far as a tokenizer.json needs them.</summary>
public enum SentencePieceKind
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Byte = 6,
}

/// <summary>
/// A SentencePiece BPE vocabulary: pieces ("▁" for a space), scores and kinds by id, with the special ids. Built from a
/// llama2.c <c>tok*.bin</c> (<see cref="Llama2cTokenizerReader"/>) or a SentencePiece <c>tokenizer.model</c>
/// (<see cref="SentencePieceModelReader"/>); <see cref="Llama2cTokenizerJson"/> turns it into <c>tokenizer.json</c>.
/// </summary>
/// <param name="Pieces">Piece text by id.</param>
/// <param name="Scores">Merge score by id (higher merges first).</param>
/// <param name="Kinds">Kind by id.</param>
/// <param name="UnkId">Unknown-token id.</param>
/// <param name="BosId">Beginning-of-sequence id.</param>
/// <param name="EosId">End-of-sequence id.</param>
/// <param name="AddDummyPrefix">Whether a "▁" is put before the text (SentencePiece's add_dummy_prefix; run.c always does).</param>
public sealed record SentencePieceVocabulary(IReadOnlyList<string> Pieces, IReadOnlyList<float> Scores, IReadOnlyList<SentencePieceKind> Kinds,
    int UnkId, int BosId, int EosId, bool AddDummyPrefix = true)
{
    /// <summary>SentencePiece's visible space.</summary>
    public const string Space = "▁";

    public int Count => Pieces.Count;

    /// <summary>Checks the byte-fallback pieces and uniqueness; <paramref name="file"/> names the source in errors.</summary>
    public void Validate(string file)
    {
        if (Scores.Count != Count || Kinds.Count != Count)
            throw new InvalidDataException($"Tokenizer '{file}': {Count} pieces, {Scores.Count} scores, {Kinds.Count} kinds.");
        foreach (var (name, id) in new[] { ("unk", UnkId), ("bos", BosId), ("eos", EosId) })
            if (id < 0 || id >= Count) throw new InvalidDataException($"Tokenizer '{file}': {name} id {id} is not in 0..{Count - 1}.");
        for (int b = 0; b < 256; b++)
            if (!Pieces.Contains($"<0x{b:X2}>"))
                throw new InvalidDataException($"Tokenizer '{file}': byte piece '<0x{b:X2}>' is missing; byte fallback needs all 256 (<0x00>…<0xFF>).");
        var duplicate = Pieces.GroupBy(p => p, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidDataException($"Tokenizer '{file}': piece '{duplicate.Key}' appears {duplicate.Count()} times; a tokenizer.json vocabulary needs unique pieces.");
    }
}
