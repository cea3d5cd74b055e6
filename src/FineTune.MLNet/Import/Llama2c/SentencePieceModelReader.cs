using FineTune.MLNet.Formats.Onnx;

namespace FineTune.MLNet.Import.Llama2c;

/// <summary>
/// Reads a SentencePiece BPE <c>tokenizer.model</c> (sentencepiece_model.proto <c>ModelProto</c>: pieces with score and
/// type, <c>trainer_spec</c> model_type and unk/bos/eos ids, <c>normalizer_spec.add_dummy_prefix</c>) into a
/// <see cref="SentencePieceVocabulary"/>, with the project's bounds-checked protobuf reader. Unigram models are refused.
/// </summary>
public static class SentencePieceModelReader
{
    private const int Bpe = 2;

    public static SentencePieceVocabulary Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = File.ReadAllBytes(path);
        try
        {
            return Parse(bytes, path);
        }
        catch (OnnxFormatException e)
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
        var model = new ProtoReader(bytes, "ModelProto");
        while (model.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                    var piece = model.ReadMessage("SentencePiece");
                    string text = ""; float score = 0; int type = 1;
                    while (piece.TryReadTag(out int f, out var w))
                    {
                        if (f == 1) text = piece.ReadString();
                        else if (f == 2) score = piece.ReadFloat();
                        else if (f == 3) type = piece.ReadInt32();
                        else piece.Skip(w);
                    }
                    pieces.Add(text);
                    scores.Add(score);
                    kinds.Add(type is 1 or 2 or 3 or 4 or 6 ? (SentencePieceKind)type : SentencePieceKind.Normal);
                    break;
                case 2:
                    var trainer = model.ReadMessage("TrainerSpec");
                    while (trainer.TryReadTag(out int f, out var w))
                    {
                        if (f == 3) modelType = trainer.ReadInt32();
                        else if (f == 40) unk = trainer.ReadInt32();
                        else if (f == 41) bos = trainer.ReadInt32();
                        else if (f == 42) eos = trainer.ReadInt32();
                        else trainer.Skip(w);
                    }
                    break;
                case 3:
                    var normalizer = model.ReadMessage("NormalizerSpec");
                    while (normalizer.TryReadTag(out int f, out var w))
                    {
                        if (f == 3) dummyPrefix = normalizer.ReadVarint() != 0;
                        else normalizer.Skip(w);
                    }
                    break;
                default:
                    model.Skip(wire);
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
}
