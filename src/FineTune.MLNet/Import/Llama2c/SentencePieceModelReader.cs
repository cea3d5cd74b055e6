using FineTune.MLNet.Formats;
using Google.Protobuf;

namespace FineTune.MLNet.Import.Llama2c;

/// <summary>
/// Reads a SentencePiece BPE <c>tokenizer.model</c> (sentencepiece_model.proto <c>ModelProto</c>: pieces with score and
/// type, <c>trainer_spec</c> model_type and unk/bos/eos ids, <c>normalizer_spec.add_dummy_prefix</c>) into a
/// <see cref="SentencePieceVocabulary"/>, with Google.Protobuf's <see cref="CodedInputStream"/> (lengths checked against
/// the bytes that are there; fields with another wire type than the schema's are skipped). Unigram models are refused.
/// </summary>
public static class SentencePieceModelReader
{
    /// <summary>Cap on tokenizer.model: real ones are 0.5 to 5 MB.</summary>
    public const long MaxFileBytes = 64L << 20;

    private const int Bpe = 2;

    // Tags (field number << 3 | wire type) of the fields read, from sentencepiece_model.proto.
    private const uint PiecesTag = 1 << 3 | 2, TrainerSpecTag = 2 << 3 | 2, NormalizerSpecTag = 3 << 3 | 2;
    private const uint PieceTextTag = 1 << 3 | 2, PieceScoreTag = 2 << 3 | 5, PieceTypeTag = 3 << 3 | 0;
    private const uint ModelTypeTag = 3 << 3 | 0, UnkIdTag = 40 << 3 | 0, BosIdTag = 41 << 3 | 0, EosIdTag = 42 << 3 | 0;
    private const uint AddDummyPrefixTag = 3 << 3 | 0;

    public static SentencePieceVocabulary Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = BoundedFile.ReadAllBytes(path, MaxFileBytes, "SentencePiece model");
        try
        {
            return Parse(bytes, path);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"SentencePiece model '{path}' is not a valid ModelProto: {e.Message}", e);
        }
    }

    private static SentencePieceVocabulary Parse(byte[] bytes, string path)
    {
        var pieces = new List<string>();
        var scores = new List<float>();
        var kinds = new List<SentencePieceKind>();
        int modelType = 1, unk = 0, bos = 1, eos = 2;
        bool dummyPrefix = true;
        var model = new CodedInputStream(bytes);
        for (uint tag; (tag = model.ReadTag()) != 0;)
        {
            switch (tag)
            {
                case PiecesTag:
                    var piece = Nested(model);
                    string text = ""; float score = 0; int type = 1;
                    for (uint t; (t = piece.ReadTag()) != 0;)
                    {
                        if (t == PieceTextTag) text = piece.ReadString();
                        else if (t == PieceScoreTag) score = piece.ReadFloat();
                        else if (t == PieceTypeTag) type = piece.ReadInt32();
                        else piece.SkipLastField();
                    }
                    pieces.Add(text);
                    scores.Add(score);
                    if (type is < 1 or > 6)
                        throw new InvalidDataException($"SentencePiece model '{path}': piece {pieces.Count - 1} ('{text}') has type {type}; expected 1..6 (sentencepiece_model.proto).");
                    kinds.Add((SentencePieceKind)type);
                    break;
                case TrainerSpecTag:
                    var trainer = Nested(model);
                    for (uint t; (t = trainer.ReadTag()) != 0;)
                    {
                        if (t == ModelTypeTag) modelType = trainer.ReadInt32();
                        else if (t == UnkIdTag) unk = trainer.ReadInt32();
                        else if (t == BosIdTag) bos = trainer.ReadInt32();
                        else if (t == EosIdTag) eos = trainer.ReadInt32();
                        else trainer.SkipLastField();
                    }
                    break;
                case NormalizerSpecTag:
                    var normalizer = Nested(model);
                    for (uint t; (t = normalizer.ReadTag()) != 0;)
                    {
                        if (t == AddDummyPrefixTag) dummyPrefix = normalizer.ReadBool();
                        else normalizer.SkipLastField();
                    }
                    break;
                default:
                    model.SkipLastField();
                    break;
            }
        }
        if (modelType != Bpe)
            throw new InvalidDataException($"SentencePiece model '{path}': trainer_spec.model_type is {modelType}; only BPE (2) can be converted (llama2.c's tokenizers are BPE).");
        if (pieces.Count == 0) throw new InvalidDataException($"SentencePiece model '{path}' has no pieces.");
        var vocabulary = new SentencePieceVocabulary(pieces, scores, kinds, unk, bos, eos, dummyPrefix);
        vocabulary.Validate(path);
        return vocabulary;
    }

    /// <summary>The length-delimited field just tagged, as its own stream (one level deep: no recursion to limit).</summary>
    private static CodedInputStream Nested(CodedInputStream input) => new(input.ReadBytes().ToByteArray());
}
