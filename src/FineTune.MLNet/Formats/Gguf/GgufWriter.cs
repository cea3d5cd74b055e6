using System.Buffers.Binary;
using System.Text;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;

namespace FineTune.MLNet.Formats.Gguf;

/// <summary>A tensor to write: ggml dims (contiguous first), type, and its bytes, produced when the writer reaches it.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Dimensions">ggml dims (the reverse of the PyTorch shape).</param>
/// <param name="Type">Storage type; <see cref="Data"/> must return exactly its byte size.</param>
/// <param name="Data">Produces the stored bytes (called once, in file order, so large models need not sit in memory).</param>
public sealed record GgufTensorData(string Name, IReadOnlyList<long> Dimensions, GgmlType Type, Func<byte[]> Data)
{
    /// <summary>A tensor whose bytes are already at hand.</summary>
    public static GgufTensorData FromBytes(string name, IReadOnlyList<long> dims, GgmlType type, byte[] data) => new(name, dims, type, () => data);
}

/// <summary>
/// Writes GGUF v3 files: header, metadata in the given order, tensor infos, then each tensor's data at offsets aligned
/// to <c>general.alignment</c> (32 when absent), zero-padded after each tensor as llama.cpp's gguf-py does (so a file
/// read with <see cref="GgufFile"/> and written back with the same metadata and tensors is byte-identical).
/// </summary>
public static class GgufWriter
{
    /// <summary>Writes <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata, IReadOnlyList<GgufTensorData> tensors) =>
        AtomicFile.Write(path, stream => Write(stream, metadata, tensors));

    /// <summary>Writes the file to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata, IReadOnlyList<GgufTensorData> tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(tensors);
        int alignment = Alignment(metadata);
        Validate(metadata, tensors);
        var sizes = tensors.Select(t => GgmlTypeInfo.ByteSize(t.Type, t.Dimensions.Aggregate(1L, (a, d) => checked(a * d)))).ToArray();

        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(0x46554747u); // "GGUF"
        w.Write(3u);
        w.Write((ulong)tensors.Count);
        w.Write((ulong)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }
        long offset = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            WriteString(w, t.Name);
            w.Write((uint)t.Dimensions.Count);
            foreach (long d in t.Dimensions) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset = GgufHeaderReader.AlignUp(offset + sizes[i], alignment);
        }
        Pad(w, alignment);
        for (int i = 0; i < tensors.Count; i++)
        {
            var bytes = tensors[i].Data();
            if (bytes.LongLength != sizes[i])
                throw new ArgumentException($"Tensor '{tensors[i].Name}': {bytes.LongLength} bytes given, {sizes[i]} expected for {tensors[i].Type} [{string.Join(", ", tensors[i].Dimensions)}].", nameof(tensors));
            w.Write(bytes);
            Pad(w, alignment);
        }
    }

    private static void Validate(IReadOnlyList<KeyValuePair<string, GgufValue>> metadata, IReadOnlyList<GgufTensorData> tensors)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, _) in metadata)
            if (string.IsNullOrEmpty(key) || !keys.Add(key)) throw new ArgumentException($"Metadata key '{key}' is empty or appears twice.", nameof(metadata));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (string.IsNullOrEmpty(t.Name) || !names.Add(t.Name)) throw new ArgumentException($"Tensor name '{t.Name}' is empty or appears twice.", nameof(tensors));
            if (t.Dimensions.Count is 0 or > GgufHeaderReader.MaxDimensions || t.Dimensions.Any(d => d <= 0))
                throw new ArgumentException($"Tensor '{t.Name}': dims [{string.Join(", ", t.Dimensions)}] must be 1 to {GgufHeaderReader.MaxDimensions} positive numbers.", nameof(tensors));
            if (!GgmlTypeInfo.IsKnown(t.Type) || t.Dimensions[0] % GgmlTypeInfo.BlockSize(t.Type) != 0)
                throw new ArgumentException($"Tensor '{t.Name}': type {t.Type} needs dims[0] ({t.Dimensions[0]}) to be a multiple of its block size.", nameof(tensors));
        }
    }

    private static int Alignment(IReadOnlyList<KeyValuePair<string, GgufValue>> metadata)
    {
        var entry = metadata.FirstOrDefault(kv => kv.Key == GgufFile.AlignmentKey).Value;
        if (entry is null) return GgufHeaderReader.DefaultAlignment;
        if (entry.Type != GgufValueType.UInt32 || (uint)entry.Value is var a && (a == 0 || (a & (a - 1)) != 0 || a > 1 << 30))
            throw new ArgumentException($"{GgufFile.AlignmentKey} must be a UInt32 power of two, got {entry}.", nameof(metadata));
        return (int)(uint)entry.Value;
    }

    private static void WriteValue(BinaryWriter w, GgufValue value)
    {
        if (value.Type != GgufValueType.Array)
        {
            WriteScalar(w, value.Type, value.Value);
            return;
        }
        var items = (Array)value.Value;
        w.Write((uint)value.ElementType!.Value);
        w.Write((ulong)items.Length);
        foreach (var item in items) WriteScalar(w, value.ElementType.Value, item!);
    }

    private static void WriteScalar(BinaryWriter w, GgufValueType type, object v)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)v); break;
            case GgufValueType.Int8: w.Write((sbyte)v); break;
            case GgufValueType.UInt16: w.Write((ushort)v); break;
            case GgufValueType.Int16: w.Write((short)v); break;
            case GgufValueType.UInt32: w.Write((uint)v); break;
            case GgufValueType.Int32: w.Write((int)v); break;
            case GgufValueType.Float32: w.Write((float)v); break;
            case GgufValueType.Bool: w.Write((bool)v ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)v); break;
            case GgufValueType.UInt64: w.Write((ulong)v); break;
            case GgufValueType.Int64: w.Write((long)v); break;
            case GgufValueType.Float64: w.Write((double)v); break;
            default: throw new ArgumentException($"Value type {type} is not a scalar.");
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void Pad(BinaryWriter w, int alignment)
    {
        w.Flush();
        long position = w.BaseStream.Position;
        long padded = GgufHeaderReader.AlignUp(position, alignment);
        for (long i = position; i < padded; i++) w.Write((byte)0);
    }
}
