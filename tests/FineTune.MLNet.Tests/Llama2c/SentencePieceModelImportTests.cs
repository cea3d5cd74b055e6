using FineTune.MLNet.Import.Llama2c;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Onnx;
using Xunit;

namespace FineTune.MLNet.Tests.Llama2c;

/// <summary>
/// A SentencePiece <c>tokenizer.model</c> as the importer's tokenizer input: tok512.bin written as a ModelProto (pieces,
/// scores, types, trainer_spec BPE) converts to the same tokenizer.json as tok512.bin itself (which encodes as run.c,
/// see <see cref="Llama2cTokenizerTests"/>).
/// </summary>
public sealed class SentencePieceModelImportTests
{
    [Fact]
    public void Tokenizer_model_converts_to_the_same_tokenizer_json_as_tok_bin()
    {
        using var dir = new TempDir();
        var vocabulary = Llama2cTokenizerReader.Read(Llama2cFixtures.Tokenizer, 512);
        var modelPath = dir.File("tokenizer.model");
        File.WriteAllBytes(modelPath, ModelProto(vocabulary));

        var fromModel = Llama2cImporter.ReadTokenizer(modelPath, 512);
        Assert.Equal(vocabulary.Pieces, fromModel.Pieces);
        Assert.Equal(vocabulary.Scores, fromModel.Scores);
        Assert.Equal(vocabulary.Kinds, fromModel.Kinds);
        Assert.Equal(Llama2cTokenizerJson.Build(vocabulary, 512), Llama2cTokenizerJson.Build(fromModel, 512));

        var e = Assert.Throws<InvalidDataException>(() => Llama2cImporter.ReadTokenizer(modelPath, 500));
        Assert.Contains("512 pieces, but the checkpoint's vocab_size is 500", e.Message);
    }

    [Fact]
    public void Unigram_models_are_refused()
    {
        using var dir = new TempDir();
        var path = dir.File("unigram.model");
        File.WriteAllBytes(path, ModelProto(Llama2cTokenizerReader.Read(Llama2cFixtures.Tokenizer, 512), modelType: 1));
        var e = Assert.Throws<InvalidDataException>(() => Llama2cImporter.ReadTokenizer(path, 512));
        Assert.Contains("only BPE", e.Message);
        Assert.Contains(path, e.Message);
    }

    /// <summary>sentencepiece_model.proto: ModelProto { pieces = 1 { piece = 1, score = 2, type = 3 }, trainer_spec = 2 { model_type = 3, byte_fallback = 35 }, normalizer_spec = 3 }.</summary>
    private static byte[] ModelProto(SentencePieceVocabulary v, int modelType = 2)
    {
        var w = new WireBytes();
        for (int id = 0; id < v.Count; id++)
        {
            int i = id;
            w.Message(1, p => p.String(1, v.Pieces[i]).Float(2, v.Scores[i]).Varint(3, (int)v.Kinds[i]));
        }
        w.Message(2, t => t.Varint(3, modelType).Varint(35, 1));
        w.Message(3, n => n.String(1, "identity").Varint(3, 1));
        return w.ToArray();
    }
}
