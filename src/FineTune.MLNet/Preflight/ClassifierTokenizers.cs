using FineTune.MLNet.Import.MiniLm;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Tokenization;

namespace FineTune.MLNet.Preflight;

/// <summary>The WordPiece tokenizer a classifier model trains with, read without loading its weights.</summary>
public static class ClassifierTokenizers
{
    /// <summary><c>minilm</c> (the bundled vocabulary) or a checkpoint folder's <c>vocab.txt</c> and lower-casing, as <see cref="PretrainedEncoder.Load"/> reads them.</summary>
    /// <exception cref="DirectoryNotFoundException">The model is neither <c>minilm</c> nor a folder.</exception>
    public static WordPieceTokenizer For(string model)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        if (string.Equals(model, PretrainedEncoder.MiniLm, StringComparison.OrdinalIgnoreCase))
        {
            using var vocab = MiniLmResources.OpenVocab();
            return WordPieceTokenizer.FromVocabStream(vocab, WordPieceTokenizerOptions.Uncased);
        }
        if (!Directory.Exists(model))
            throw new DirectoryNotFoundException($"--model: '{model}' is neither '{PretrainedEncoder.MiniLm}' nor an existing checkpoint folder.");
        var (bytes, options) = PretrainedEncoder.ReadVocabulary(model);
        return WordPieceTokenizer.FromVocabStream(new MemoryStream(bytes), options);
    }
}
