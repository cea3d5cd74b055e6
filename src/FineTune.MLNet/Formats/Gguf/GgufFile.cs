namespace FineTune.MLNet.Formats.Gguf;

/// <summary>
/// A parsed GGUF v3 (or v2) file: metadata in file order, tensor infos, alignment and the data section's offset.
/// Tensor data is read on demand (<see cref="ReadTensorBytes"/>, <see cref="ReadTensorAsFloat32"/>). Every header
/// count, length, offset and dimension is checked against the file size before anything is allocated for it; bad
/// bytes give a <see cref="GgufFormatException"/> naming the file and the field, and nothing else.
/// Spec: ggml-org/ggml <c>docs/gguf.md</c>.
/// </summary>
public sealed class GgufFile
{
    /// <summary>The metadata key that sets the data alignment (UInt32, default 32).</summary>
    public const string AlignmentKey = "general.alignment";

    private readonly Dictionary<string, GgufValue> _byKey;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;
    private readonly Func<Stream> _openData;

    internal GgufFile(string name, int version, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata,
        IReadOnlyList<GgufTensorInfo> tensors, int alignment, long dataOffset, Func<Stream> openData)
    {
        Name = name;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        Alignment = alignment;
        DataOffset = dataOffset;
        _openData = openData;
        _byKey = metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        _tensorsByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The path, or the name given with the bytes; used in error messages.</summary>
    public string Name { get; }

    /// <summary>Format version (3; 2 is read too, it has the same layout).</summary>
    public int Version { get; }

    /// <summary>Metadata key/value pairs in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata { get; }

    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Data alignment in bytes.</summary>
    public int Alignment { get; }

    /// <summary>Absolute file offset of the data section.</summary>
    public long DataOffset { get; }

    /// <summary>Reads the header of the file at <paramref name="path"/> (tensor data stays on disk until asked for).</summary>
    public static GgufFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"GGUF file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return GgufHeaderReader.Parse(stream, path, () => File.OpenRead(path));
    }

    /// <summary>Reads a GGUF file held in memory (the entry point for fuzzing: bad bytes throw only <see cref="GgufFormatException"/>).</summary>
    public static GgufFile Read(byte[] bytes, string name = "<bytes>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var stream = new MemoryStream(bytes, writable: false);
        return GgufHeaderReader.Parse(stream, name, () => new MemoryStream(bytes, writable: false));
    }

    /// <summary>Reads a GGUF file from a seekable stream; the stream is copied to memory so the file stays usable after it is closed.</summary>
    public static GgufFile Read(Stream stream, string name = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek && stream.Length - stream.Position > int.MaxValue)
            throw new ArgumentException($"'{name}': streams over 2 GB cannot be held in memory; use Read(path).", nameof(stream));
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Read(copy.ToArray(), name);
    }

    /// <summary>The value of <paramref name="key"/>, or null.</summary>
    public GgufValue? Get(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>Whether the file has the metadata key.</summary>
    public bool Has(string key) => _byKey.ContainsKey(key);

    /// <summary>A string value, or null when absent; throws naming the key when it has another type.</summary>
    public string? GetString(string key) => Get(key) switch
    {
        null => null,
        { Type: GgufValueType.String } v => (string)v.Value,
        var v => throw Mistyped(key, "a string", v),
    };

    /// <summary>An integer value of any integer type (UInt64 above long.MaxValue is refused), or null when absent.</summary>
    public long? GetInteger(string key)
    {
        var v = Get(key);
        if (v is null) return null;
        if (!GgufValue.IsInteger(v.Type)) throw Mistyped(key, "an integer", v);
        if (v.Value is ulong u && u > long.MaxValue) throw new GgufFormatException(Name, $"metadata[\"{key}\"]", $"{u} is too large.");
        return Convert.ToInt64(v.Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A Float32/Float64 (or integer) value as double, or null when absent.</summary>
    public double? GetNumber(string key)
    {
        var v = Get(key);
        if (v is null) return null;
        return v.Value switch
        {
            float f => f,
            double d => d,
            _ when GgufValue.IsInteger(v.Type) => GetInteger(key),
            _ => throw Mistyped(key, "a number", v),
        };
    }

    /// <summary>A Bool value, or null when absent.</summary>
    public bool? GetBool(string key) => Get(key) switch
    {
        null => null,
        { Type: GgufValueType.Bool } v => (bool)v.Value,
        var v => throw Mistyped(key, "a bool", v),
    };

    /// <summary>An array of strings, or null when absent.</summary>
    public string[]? GetStringArray(string key) => Get(key) switch
    {
        null => null,
        { Type: GgufValueType.Array, ElementType: GgufValueType.String } v => (string[])v.Value,
        var v => throw Mistyped(key, "an array of strings", v),
    };

    /// <summary>An array of Float32 values, or null when absent.</summary>
    public float[]? GetFloatArray(string key) => Get(key) switch
    {
        null => null,
        { Type: GgufValueType.Array, ElementType: GgufValueType.Float32 } v => (float[])v.Value,
        var v => throw Mistyped(key, "an array of Float32", v),
    };

    /// <summary>An array of any integer type as int (values outside int are refused), or null when absent.</summary>
    public int[]? GetIntArray(string key)
    {
        var v = Get(key);
        if (v is null) return null;
        if (v.Type != GgufValueType.Array || !GgufValue.IsInteger(v.ElementType!.Value)) throw Mistyped(key, "an array of integers", v);
        var items = (Array)v.Value;
        var result = new int[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            var item = items.GetValue(i)!;
            if (item is ulong u ? u > int.MaxValue : Convert.ToInt64(item, System.Globalization.CultureInfo.InvariantCulture) is < int.MinValue or > int.MaxValue)
                throw new GgufFormatException(Name, $"metadata[\"{key}\"][{i}]", $"{item} does not fit in 32 bits.");
            result[i] = Convert.ToInt32(item, System.Globalization.CultureInfo.InvariantCulture);
        }
        return result;
    }

    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public GgufTensorInfo? FindTensor(string name) => _tensorsByName.GetValueOrDefault(name);

    /// <summary>The stored bytes of a tensor (checked at parse time to lie inside the file).</summary>
    public byte[] ReadTensorBytes(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_tensorsByName.TryGetValue(tensor.Name, out var own) || own != tensor)
            throw new ArgumentException($"Tensor '{tensor.Name}' does not belong to GGUF file '{Name}'.", nameof(tensor));
        if (tensor.ByteSize > Array.MaxLength)
            throw new NotSupportedException($"GGUF file '{Name}': tensor '{tensor.Name}' has {tensor.ByteSize} bytes, more than one .NET array holds.");
        var bytes = new byte[tensor.ByteSize];
        using var stream = _openData();
        stream.Position = DataOffset + tensor.Offset;
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>A tensor's values as float32 in ggml order (row-major over the reversed dims), dequantized if needed.</summary>
    public float[] ReadTensorAsFloat32(GgufTensorInfo tensor) => GgmlBlocks.Dequantize(tensor.Type, ReadTensorBytes(tensor), tensor.ElementCount, tensor.Name);

    private GgufFormatException Mistyped(string key, string expected, GgufValue actual) =>
        new(Name, $"metadata[\"{key}\"]", $"must be {expected}, got {actual}.");
}
