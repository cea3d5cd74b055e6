using System.Runtime.InteropServices;

namespace FineTune.MLNet.Formats.Llama2c;

/// <summary>
/// A llama2.c checkpoint read into fp32 arrays: legacy v0 (7-int32 header, negative vocab_size = untied classifier,
/// trailing freq_cis tables skipped), v1 (<c>"ak42"</c>, fp32) and v2 (<c>"ak42"</c>, Q8_0 groups dequantized as
/// <c>q·scale</c> in fp32, as <c>runq.c</c> does). The header is checked against the file size before any tensor is read.
/// </summary>
public sealed class Llama2cCheckpoint
{
    private Llama2cCheckpoint(string file, Llama2cHeader header, IReadOnlyDictionary<string, Llama2cTensor> tensors)
    {
        File = file;
        Header = header;
        Tensors = tensors;
    }

    /// <summary>The path it was read from.</summary>
    public string File { get; }

    public Llama2cHeader Header { get; }

    /// <summary>Weights by <c>run.c</c> name (<see cref="Llama2cLayout.Weights"/>); <c>wcls</c> only when not shared.</summary>
    public IReadOnlyDictionary<string, Llama2cTensor> Tensors { get; }

    /// <summary>Reads and checks a checkpoint; throws <see cref="Llama2cFormatException"/> for bad bytes.</summary>
    public static Llama2cCheckpoint Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        var header = Llama2cHeaderReader.Read(stream, path);
        stream.Position = header.HeaderBytes;
        var tensors = new Dictionary<string, Llama2cTensor>(StringComparer.Ordinal);
        foreach (var segment in Llama2cLayout.Segments(header))
        {
            if (segment.Encoding == Llama2cEncoding.Skip)
            {
                stream.Seek(segment.Bytes(header.GroupSize), SeekOrigin.Current);
                continue;
            }
            var values = new float[segment.Count];
            long chunk = segment.Count / segment.Chunks;
            for (int c = 0; c < segment.Chunks; c++)
            {
                var part = values.AsSpan((int)(c * chunk), (int)chunk);
                if (segment.Encoding == Llama2cEncoding.Fp32) ReadFloats(stream, part);
                else ReadQ8(stream, part, header.GroupSize);
            }
            tensors[segment.Name] = new Llama2cTensor(segment.Name, segment.Shape, values);
        }
        return new Llama2cCheckpoint(path, header, tensors);
    }

    /// <summary>The header alone, checked against the file size.</summary>
    public static Llama2cHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Llama2cHeaderReader.Read(stream, path);
    }

    private static void ReadFloats(Stream stream, Span<float> into)
    {
        stream.ReadExactly(MemoryMarshal.AsBytes(into));     // little-endian fp32, as the files are
    }

    private static void ReadQ8(Stream stream, Span<float> into, int groupSize)
    {
        var q = new byte[into.Length];
        stream.ReadExactly(q);
        var scales = new float[into.Length / groupSize];
        ReadFloats(stream, scales);
        for (int i = 0; i < into.Length; i++) into[i] = (sbyte)q[i] * scales[i / groupSize];
    }
}
