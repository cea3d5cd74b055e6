using Microsoft.ML.Transforms;

namespace FineTune.MLNet.Serving;

/// <summary>
/// Serving step 3 of a sentence-pair classifier: WordPiece-encodes <c>Text</c> and <c>SecondText</c> as the TorchSharp
/// classifier does (<c>[CLS] text [SEP] second [SEP]</c>, token types 0 then 1, <c>longest_first</c> truncation to the
/// classifier's maximum length) and right-pads to the fixed length of the ONNX inputs; one mapping per padded length,
/// as <see cref="WordPieceMapping{TOutput}"/>.
/// </summary>
public abstract class WordPiecePairMapping<TOutput> : CustomMappingFactory<WordPiecePairMapping<TOutput>.Input, TOutput>
    where TOutput : class, IWordPieceInputs, new()
{
    public override Action<Input, TOutput> GetMapping()
    {
        var cache = new ServingTokenizerData.Cache();
        return (input, output) => Map(cache, input, output);
    }

    private static void Map(ServingTokenizerData.Cache cache, Input input, TOutput output)
    {
        var (tokenizer, maxLength) = cache.Get(input.TokenizerData.AsMemory());
        WordPiecePadding.Pad(tokenizer.Encode(input.Text, input.SecondText, maxLength), tokenizer.PadId, output);
    }

    public sealed class Input
    {
        public string Text { get; set; } = "";

        public string SecondText { get; set; } = "";

        /// <summary>Settings line + vocab.txt (see <see cref="ServingTokenizerData"/>).</summary>
        public string TokenizerData { get; set; } = "";
    }
}

/// <summary>Sentence-pair WordPiece inputs padded to 64 tokens.</summary>
[CustomMappingFactoryAttribute("FineTune.MLNet.Serving.WordPiecePair64")]
public sealed class WordPiecePair64Mapping : WordPiecePairMapping<WordPiece64Mapping.Padded>;

/// <summary>Sentence-pair WordPiece inputs padded to 128 tokens.</summary>
[CustomMappingFactoryAttribute("FineTune.MLNet.Serving.WordPiecePair128")]
public sealed class WordPiecePair128Mapping : WordPiecePairMapping<WordPiece128Mapping.Padded>;

/// <summary>Sentence-pair WordPiece inputs padded to 256 tokens.</summary>
[CustomMappingFactoryAttribute("FineTune.MLNet.Serving.WordPiecePair256")]
public sealed class WordPiecePair256Mapping : WordPiecePairMapping<WordPiece256Mapping.Padded>;

/// <summary>Sentence-pair WordPiece inputs padded to 512 tokens.</summary>
[CustomMappingFactoryAttribute("FineTune.MLNet.Serving.WordPiecePair512")]
public sealed class WordPiecePair512Mapping : WordPiecePairMapping<WordPiece512Mapping.Padded>;
