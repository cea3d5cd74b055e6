using System.Buffers.Binary;

namespace FineTune.MLNet.Formats.Llama2c;

/// <summary>
/// Reads a llama2.c header and checks it: magic and version, positive sizes that divide (heads by kv heads, dim by
/// heads, even head size, Q8_0 groups by every tensor), and the file size the header implies (truncated or trailing
/// bytes). All before any tensor is allocated.
/// </summary>
public static class Llama2cHeaderReader
{
    /// <summary>Largest plausible legacy <c>dim</c>; a bigger first int32 means the file is not a llama2.c checkpoint.</summary>
    private const int MaxPlausibleDim = 1 << 16;

    /// <summary>Reads the header at the start of <paramref name="stream"/> (whose length is the file size).</summary>
    public static Llama2cHeader Read(Stream stream, string file)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long length = stream.Length;
        Span<byte> head = stackalloc byte[Llama2cHeader.VersionedHeaderBytes];
        int got = ReadUpTo(stream, head);
        if (got < 4) throw new Llama2cFormatException(file, "header", $"the file has {length} bytes; a llama2.c checkpoint starts with a header of 28 (v0) or 256 (v1/v2) bytes.");
        var header = BinaryPrimitives.ReadUInt32LittleEndian(head) == Llama2cHeader.Magic
            ? Versioned(head[..got], file, length)
            : Legacy(head[..got], file, length);
        CheckFields(header, file);
        CheckSize(header, file, length);
        return header;
    }

    private static Llama2cHeader Legacy(ReadOnlySpan<byte> head, string file, long length)
    {
        if (head.Length < Llama2cHeader.LegacyHeaderBytes)
            throw new Llama2cFormatException(file, "header", $"truncated: {length} bytes, a legacy v0 header needs 28 (7 int32).");
        var p = Ints(head, 0);
        if (p[0] <= 0 || p[0] > MaxPlausibleDim)
            throw new Llama2cFormatException(file, "magic", $"the file starts neither with the 'ak42' magic of a v1/v2 checkpoint (0x{Llama2cHeader.Magic:x8}) nor with a legacy v0 header (dim would be {p[0]}).");
        int vocab = p[5];
        return new Llama2cHeader(0, p[0], p[1], p[2], p[3], p[4], vocab == int.MinValue ? 0 : Math.Abs(vocab), p[6], SharedClassifier: vocab > 0);
    }

    private static Llama2cHeader Versioned(ReadOnlySpan<byte> head, string file, long length)
    {
        if (head.Length < Llama2cHeader.VersionedHeaderBytes)
            throw new Llama2cFormatException(file, "header", $"truncated: {length} bytes, a v1/v2 header needs 256.");
        int version = BinaryPrimitives.ReadInt32LittleEndian(head[4..]);
        if (version is not (1 or 2))
            throw new Llama2cFormatException(file, "version", $"{version}; expected 1 (fp32) or 2 (Q8_0) after the 'ak42' magic.");
        var p = Ints(head, 8);
        byte shared = head[36];
        if (shared > 1) throw new Llama2cFormatException(file, "shared_classifier", $"byte {shared}; expected 0 or 1.");
        int groupSize = version == 2 ? BinaryPrimitives.ReadInt32LittleEndian(head[37..]) : 0;
        if (version == 2 && groupSize <= 0) throw new Llama2cFormatException(file, "group_size", $"{groupSize}; expected a positive Q8_0 group size.");
        if (p[5] <= 0) throw new Llama2cFormatException(file, "vocab_size", $"{p[5]}; expected > 0 (v1/v2 store the shared-classifier flag apart).");
        return new Llama2cHeader(version, p[0], p[1], p[2], p[3], p[4], p[5], p[6], shared == 1, groupSize);
    }

    private static void CheckFields(Llama2cHeader h, string file)
    {
        void Positive(string field, int value)
        {
            if (value <= 0) throw new Llama2cFormatException(file, field, $"{value}; expected > 0.");
        }
        Positive("dim", h.Dim);
        Positive("hidden_dim", h.HiddenDim);
        Positive("n_layers", h.Layers);
        Positive("n_heads", h.Heads);
        Positive("n_kv_heads", h.KvHeads);
        Positive("vocab_size", h.VocabSize);
        Positive("seq_len", h.SeqLen);
        if (h.Heads % h.KvHeads != 0)
            throw new Llama2cFormatException(file, "n_kv_heads", $"{h.KvHeads} does not divide n_heads {h.Heads}.");
        if (h.Dim % h.Heads != 0)
            throw new Llama2cFormatException(file, "n_heads", $"{h.Heads} does not divide dim {h.Dim}.");
        if (h.HeadSize % 2 != 0)
            throw new Llama2cFormatException(file, "n_heads", $"head size dim/n_heads = {h.HeadSize} is odd; RoPE needs pairs.");
        if (h.Version != 2) return;
        foreach (var s in Llama2cLayout.Segments(h).Where(s => s.Encoding == Llama2cEncoding.Q8))
        {
            long chunk = s.Count / s.Chunks;
            if (chunk % h.GroupSize != 0)
                throw new Llama2cFormatException(file, "group_size", $"{h.GroupSize} does not divide the {chunk} values of each '{s.Name}' block ([{string.Join(", ", s.Shape)}]).");
        }
    }

    private static void CheckSize(Llama2cHeader h, string file, long length)
    {
        long expected;
        try
        {
            expected = h.HeaderBytes + Llama2cLayout.Segments(h).Sum(s => s.Bytes(h.GroupSize));
        }
        catch (OverflowException)
        {
            throw new Llama2cFormatException(file, "header", $"sizes overflow a 64-bit byte count ({h}).");
        }
        string described = $"the v{h.Version} header (dim {h.Dim}, hidden_dim {h.HiddenDim}, n_layers {h.Layers}, n_heads {h.Heads}, n_kv_heads {h.KvHeads}, vocab_size {h.VocabSize}, seq_len {h.SeqLen}, {(h.SharedClassifier ? "shared" : "separate")} classifier{(h.Version == 2 ? $", group_size {h.GroupSize}" : "")}) describes {expected} bytes";
        if (length < expected)
            throw new Llama2cFormatException(file, "file size", $"truncated: {described}, the file has {length}.");
        if (length > expected)
        {
            string hint = h.Version == 0 && h.SharedClassifier && length - expected == 4L * h.VocabSize * h.Dim
                ? " (exactly one untied classifier: a legacy file with one stores a negative vocab_size)" : "";
            throw new Llama2cFormatException(file, "file size", $"{length - expected} trailing bytes: {described}, the file has {length}{hint}.");
        }
        if (Llama2cLayout.Segments(h).Max(s => s.Count / s.Chunks) > Array.MaxLength)
            throw new NotSupportedException($"llama2.c file '{file}': a tensor has more than {Array.MaxLength} values, which this reader cannot hold in one array.");
    }

    private static int[] Ints(ReadOnlySpan<byte> head, int offset)
    {
        var p = new int[7];
        for (int i = 0; i < 7; i++) p[i] = BinaryPrimitives.ReadInt32LittleEndian(head[(offset + 4 * i)..]);
        return p;
    }

    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
