using FineTune.MLNet.Tokenization;
using Microsoft.ML.Transforms;

namespace FineTune.MLNet.Serving;

/// <summary>
/// Serving step 3: WordPiece-encodes <c>Text</c> with the tokenizer carried in the <see cref="ServingColumns.TokenizerData"/>
/// column (<c>[CLS] text [SEP]</c>, truncated to the classifier's maximum length) and right-pads to the fixed length of the
/// ONNX inputs. ML.NET rebuilds a custom mapping on <c>Model.Load</c> from its contract name alone, and its output vectors
/// need a size known from the type, so there is one mapping per padded length (<see cref="WordPieceMappingLengths.Lengths"/>).
/// </summary>
public abstract class WordPieceMapping<TOutput> : CustomMappingFactory<WordPieceMapping<TOutput>.Input, TOutput>
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
        WordPiecePadding.Pad(tokenizer.Encode(input.Text, maxLength: maxLength), tokenizer.PadId, output);
    }

    public sealed class Input
    {
        public string Text { get; set; } = "";

        /// <summary>Settings line + vocab.txt (see <see cref="ServingTokenizerData"/>).</summary>
        public string TokenizerData { get; set; } = "";
    }
}

/// <summary>Right-pads one encoded sequence into the fixed-length ONNX input vectors.</summary>
internal static class WordPiecePadding
{
    public static void Pad(EncodedSequence encoded, int padId, IWordPieceInputs output)
    {
        var padded = output.InputIds.Length;
        if (encoded.Length > padded)
            throw new InvalidDataException($"Serving pipeline: {encoded.Length} tokens do not fit the padded length {padded}.");
        for (var i = 0; i < padded; i++)
        {
            var real = i < encoded.Length;
            output.InputIds[i] = real ? encoded.InputIds[i] : padId;
            output.AttentionMask[i] = real ? 1 : 0;
            output.TokenTypeIds[i] = real ? encoded.TokenTypeIds[i] : 0;
        }
    }
}

/// <summary>The three int64 inputs of the exported classifier, each as long as the padded length.</summary>
public interface IWordPieceInputs
{
    long[] InputIds { get; }

    long[] AttentionMask { get; }

    long[] TokenTypeIds { get; }
}

/// <summary>The padded lengths a serving pipeline can have (the smallest one at least the classifier's maximum length is used).</summary>
public static class WordPieceMappingLengths
{
    public static IReadOnlyList<int> Lengths { get; } = [64, 128, 256, 512];

    /// <summary>The contract name of the mapping that pads to <paramref name="length"/>.</summary>
    public static string ContractName(int length) => $"FineTune.MLNet.Serving.WordPiece{length}";

    /// <summary>The contract name of the sentence-pair mapping that pads to <paramref name="length"/>.</summary>
    public static string PairContractName(int length) => $"FineTune.MLNet.Serving.WordPiecePair{length}";
}
