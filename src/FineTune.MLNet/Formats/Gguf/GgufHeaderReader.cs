using System.Buffers.Binary;
using System.Text;

namespace FineTune.MLNet.Formats.Gguf;

/// <summary>
/// Parses the GGUF header (magic, version, counts, metadata, tensor infos) from a seekable stream, checking every
/// count and length against the bytes left in the file before anything is allocated for it. Throws only
/// <see cref="GgufFormatException"/> for bad bytes.
/// </summary>
internal sealed class GgufHeaderReader
{
    /// <summary>ggml's GGML_MAX_DIMS.</summary>
    public const int MaxDimensions = 4;

    /// <summary>The alignment when <c>general.alignment</c> is absent (GGUF spec).</summary>
    public const int DefaultAlignment = 32;

    private const int MinKeyValueBytes = 8 + 1 + 4 + 1;              // key length, 1-byte key, type, 1-byte value
    private const int MinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;    // name length, 1-byte name, n_dims, one dim, type, offset
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Stream _stream;
    private readonly string _file;
    private readonly long _length;
    private readonly byte[] _scratch = new byte[8];

    private GgufHeaderReader(Stream stream, string file)
    {
        _stream = stream;
        _file = file;
        _length = stream.Length;
    }

    private long Remaining => _length - _stream.Position;

    public static GgufFile Parse(Stream stream, string file, Func<Stream> openData)
    {
        if (!stream.CanSeek) throw new ArgumentException("The stream must be seekable (its length bounds every count in the header).", nameof(stream));
        stream.Position = 0;
        return new GgufHeaderReader(stream, file).Parse(openData);
    }

    private GgufFile Parse(Func<Stream> openData)
    {
        if (_length < 4 || ReadU32("magic") != 0x46554747u) // "GGUF" little-endian
            throw Error("magic", "not a GGUF file (the first 4 bytes are not 'GGUF').");
        uint version = ReadU32("version");
        if (version is not (2 or 3))
        {
            uint swapped = BinaryPrimitives.ReverseEndianness(version);
            throw Error("version", swapped is 2 or 3 ? "big-endian GGUF files are not supported." : $"{version} is not supported (expected 3, or 2).");
        }
        long tensorCount = ReadCount("tensor_count", MinTensorInfoBytes);
        long kvCount = ReadCount("metadata_kv_count", MinKeyValueBytes);

        var metadata = new List<KeyValuePair<string, GgufValue>>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < kvCount; i++)
        {
            string key = ReadString($"metadata[{i}].key");
            if (key.Length == 0) throw Error($"metadata[{i}].key", "is empty.");
            if (!keys.Add(key)) throw Error($"metadata[\"{key}\"]", "the key appears twice.");
            metadata.Add(new(key, ReadValue($"metadata[\"{key}\"]")));
        }
        int alignment = Alignment(metadata);

        var tensors = new List<GgufTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            var info = ReadTensorInfo(i, alignment);
            if (!names.Add(info.Name)) throw Error($"tensors[{i}].name", $"'{info.Name}' appears twice.");
            tensors.Add(info);
        }

        long dataOffset = AlignUp(_stream.Position, alignment);
        long dataBytes = Math.Max(0, _length - dataOffset);
        CheckDataRanges(tensors, dataBytes);
        return new GgufFile(_file, (int)version, metadata, tensors, alignment, dataOffset, openData);
    }

    private GgufTensorInfo ReadTensorInfo(long i, int alignment)
    {
        string at = $"tensors[{i}]";
        string name = ReadString(at + ".name");
        if (name.Length == 0) throw Error(at + ".name", "is empty.");
        at = $"tensors[{i}] ('{name}')";
        uint nDims = ReadU32(at + ".n_dimensions");
        if (nDims is 0 or > MaxDimensions) throw Error(at + ".n_dimensions", $"{nDims} is not in 1..{MaxDimensions}.");
        var dims = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++)
        {
            ulong dim = ReadU64($"{at}.dimensions[{d}]");
            if (dim == 0 || dim > long.MaxValue) throw Error($"{at}.dimensions[{d}]", $"{dim} is not in 1..{long.MaxValue}.");
            dims[d] = (long)dim;
            if (elements > long.MaxValue / dims[d]) throw Error(at + ".dimensions", $"the product of [{string.Join(", ", dims.Take(d + 1))}] overflows 64 bits.");
            elements *= dims[d];
        }
        uint rawType = ReadU32(at + ".type");
        var type = (GgmlType)rawType;
        if (!GgmlTypeInfo.IsKnown(type)) throw Error(at + ".type", $"ggml type {rawType} is unknown or not supported by this reader.");
        int block = GgmlTypeInfo.BlockSize(type);
        if (dims[0] % block != 0) throw Error(at + ".dimensions[0]", $"{dims[0]} is not a multiple of the {type} block size {block}.");
        if (elements / block > long.MaxValue / GgmlTypeInfo.BlockBytes(type)) throw Error(at + ".dimensions", "the tensor's byte size overflows 64 bits.");
        ulong offset = ReadU64(at + ".offset");
        if (offset > long.MaxValue) throw Error(at + ".offset", $"{offset} is beyond any file.");
        if (offset % (ulong)alignment != 0) throw Error(at + ".offset", $"{offset} is not a multiple of the alignment {alignment}.");
        return new GgufTensorInfo(name, dims, type, (long)offset);
    }

    private void CheckDataRanges(List<GgufTensorInfo> tensors, long dataBytes)
    {
        foreach (var t in tensors)
        {
            if (t.Offset > dataBytes || t.ByteSize > dataBytes - t.Offset)
                throw Error($"tensor '{t.Name}'", $"its data (offset {t.Offset}, {t.ByteSize} bytes) lies beyond the end of the file (data section holds {dataBytes} bytes).");
        }
        GgufTensorInfo? previous = null;
        foreach (var t in tensors.OrderBy(t => t.Offset))
        {
            if (previous is not null && t.Offset < previous.Offset + previous.ByteSize)
                throw Error($"tensor '{t.Name}'", $"its data (offset {t.Offset}) overlaps tensor '{previous.Name}' (offset {previous.Offset}, {previous.ByteSize} bytes).");
            previous = t;
        }
    }

    private int Alignment(List<KeyValuePair<string, GgufValue>> metadata)
    {
        var entry = metadata.FirstOrDefault(kv => kv.Key == GgufFile.AlignmentKey);
        if (entry.Value is null) return DefaultAlignment;
        string at = $"metadata[\"{GgufFile.AlignmentKey}\"]";
        if (entry.Value.Type != GgufValueType.UInt32) throw Error(at, $"must be a UInt32, got {entry.Value.Type}.");
        uint a = (uint)entry.Value.Value;
        if (a == 0 || (a & (a - 1)) != 0 || a > 1 << 30) throw Error(at, $"{a} is not a power of two in 1..2^30.");
        return (int)a;
    }

    private GgufValue ReadValue(string at)
    {
        var type = ReadType(at + ".type");
        if (type != GgufValueType.Array) return GgufValue.Scalar(type, ReadScalar(type, at));
        var elementType = ReadType(at + ".element_type");
        if (elementType == GgufValueType.Array) throw Error(at + ".element_type", "arrays of arrays are not supported.");
        int elementBytes = elementType == GgufValueType.String ? 8 : ScalarBytes(elementType);
        ulong count = ReadU64(at + ".count");
        if (count > (ulong)(Remaining / elementBytes) || count > int.MaxValue)
            throw Error(at + ".count", $"{count} elements of {elementType} need at least {(count > long.MaxValue / 8 ? "more" : (count * (ulong)elementBytes).ToString())} bytes, but only {Remaining} bytes are left in the file.");
        var items = System.Array.CreateInstance(GgufValue.ClrType(elementType), (int)count);
        for (int i = 0; i < (int)count; i++) items.SetValue(ReadScalar(elementType, $"{at}[{i}]"), i);
        return GgufValue.Array(elementType, items);
    }

    private object ReadScalar(GgufValueType type, string at) => type switch
    {
        GgufValueType.UInt8 => Read(1, at)[0],
        GgufValueType.Int8 => (sbyte)Read(1, at)[0],
        GgufValueType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(Read(2, at)),
        GgufValueType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(Read(2, at)),
        GgufValueType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(Read(4, at)),
        GgufValueType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(Read(4, at)),
        GgufValueType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(Read(4, at)),
        GgufValueType.Bool => ReadBool(at),
        GgufValueType.String => ReadString(at),
        GgufValueType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(Read(8, at)),
        GgufValueType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(Read(8, at)),
        GgufValueType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(Read(8, at)),
        _ => throw Error(at, $"value type {type} is not a scalar."),
    };

    private static int ScalarBytes(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        _ => 8,
    };

    private bool ReadBool(string at)
    {
        byte b = Read(1, at)[0];
        return b switch { 0 => false, 1 => true, _ => throw Error(at, $"a bool must be 0 or 1, got {b}.") };
    }

    private GgufValueType ReadType(string at)
    {
        uint raw = ReadU32(at);
        if (raw > (uint)GgufValueType.Float64) throw Error(at, $"value type {raw} is unknown (expected 0..12).");
        return (GgufValueType)raw;
    }

    private long ReadCount(string at, int minBytesEach)
    {
        ulong count = ReadU64(at);
        if (count > (ulong)(Remaining / minBytesEach))
            throw Error(at, $"{count} entries cannot fit in the {Remaining} bytes left in the file (each takes at least {minBytesEach} bytes).");
        return (long)count;
    }

    private string ReadString(string at)
    {
        ulong length = ReadU64(at + ".length");
        if (length > (ulong)Remaining) throw Error(at + ".length", $"{length} bytes, but only {Remaining} bytes are left in the file.");
        if (length > int.MaxValue) throw Error(at + ".length", $"{length} bytes is longer than any supported string.");
        var bytes = new byte[(int)length];
        _stream.ReadExactly(bytes);
        try { return s_utf8.GetString(bytes); }
        catch (DecoderFallbackException) { throw Error(at, "is not valid UTF-8."); }
    }

    private uint ReadU32(string at) => BinaryPrimitives.ReadUInt32LittleEndian(Read(4, at));

    private ulong ReadU64(string at) => BinaryPrimitives.ReadUInt64LittleEndian(Read(8, at));

    private ReadOnlySpan<byte> Read(int n, string at)
    {
        if (Remaining < n) throw Error(at, $"the file ends after {_length} bytes, in the middle of this field.");
        var span = _scratch.AsSpan(0, n);
        _stream.ReadExactly(span);
        return span;
    }

    internal static long AlignUp(long position, int alignment) => (position + alignment - 1) / alignment * alignment;

    private GgufFormatException Error(string field, string problem) => new(_file, field, problem);
}
