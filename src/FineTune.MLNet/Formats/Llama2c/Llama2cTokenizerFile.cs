using System.Buffers.Binary;

namespace FineTune.MLNet.Formats.Llama2c;

/// <summary>
/// A llama2.c tokenizer (<c>tok*.bin</c>, written by llama2.c's <c>tokenizer.py</c>): int32 max_token_length, then per
/// token a float32 score, an int32 byte length and the piece's bytes (UTF-8; spaces stand for SentencePiece's "▁",
/// BOS/EOS are written <c>"\n&lt;s&gt;\n"</c> / <c>"\n&lt;/s&gt;\n"</c>). The file does not store the token count: it is the
/// checkpoint's vocab_size, and the file must end exactly after that many tokens.
/// </summary>
public sealed class Llama2cTokenizerFile
{
    private Llama2cTokenizerFile(int maxTokenLength, byte[][] pieces, float[] scores)
    {
        MaxTokenLength = maxTokenLength;
        Pieces = pieces;
        Scores = scores;
    }

    public int MaxTokenLength { get; }

    /// <summary>Piece bytes by id.</summary>
    public IReadOnlyList<byte[]> Pieces { get; }

    /// <summary>Merge score by id.</summary>
    public IReadOnlyList<float> Scores { get; }

    /// <summary>Reads every token of <paramref name="path"/>; when <paramref name="expectedVocabSize"/> is given, the count must equal it.</summary>
    public static Llama2cTokenizerFile Read(string path, int? expectedVocabSize = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = System.IO.File.ReadAllBytes(path);
        if (bytes.Length < 4) throw new Llama2cFormatException(path, "max_token_length", $"the file has {bytes.Length} bytes; a tok*.bin starts with an int32.");
        int maxLength = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (maxLength <= 0) throw new Llama2cFormatException(path, "max_token_length", $"{maxLength}; expected > 0.");
        var pieces = new List<byte[]>();
        var scores = new List<float>();
        long offset = 4;
        while (offset < bytes.Length)
        {
            int id = pieces.Count;
            if (expectedVocabSize is int v && id == v)
                throw new Llama2cFormatException(path, "file size", $"{bytes.Length - offset} trailing bytes after {v} tokens (the checkpoint's vocab_size).");
            if (bytes.Length - offset < 8)
                throw new Llama2cFormatException(path, $"token {id}", $"truncated: {bytes.Length - offset} bytes left, a token starts with a float32 score and an int32 length.");
            float score = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)offset));
            int length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)offset + 4));
            offset += 8;
            if (length < 0 || length > bytes.Length - offset)
                throw new Llama2cFormatException(path, $"token {id}", $"length {length} does not fit the {bytes.Length - offset} bytes left (truncated or not a tok*.bin file).");
            pieces.Add(bytes.AsSpan((int)offset, length).ToArray());
            scores.Add(score);
            offset += length;
        }
        if (expectedVocabSize is int expected && pieces.Count != expected)
            throw new Llama2cFormatException(path, "vocabulary", $"{pieces.Count} tokens, but the checkpoint's vocab_size is {expected}.");
        return new Llama2cTokenizerFile(maxLength, [.. pieces], [.. scores]);
    }

    /// <summary>Writes a tok*.bin (for tests and round trips).</summary>
    public static void Write(string path, IReadOnlyList<byte[]> pieces, IReadOnlyList<float> scores)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(scores);
        if (pieces.Count != scores.Count) throw new ArgumentException($"{scores.Count} scores for {pieces.Count} pieces.", nameof(scores));
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            w.Write(pieces.Count == 0 ? 1 : pieces.Max(p => p.Length));
            for (int i = 0; i < pieces.Count; i++)
            {
                w.Write(scores[i]);
                w.Write(pieces[i].Length);
                w.Write(pieces[i]);
            }
        });
    }
}
