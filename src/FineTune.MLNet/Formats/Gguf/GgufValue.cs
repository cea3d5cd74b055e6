namespace FineTune.MLNet.Formats.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar (boxed <c>byte</c>, <c>sbyte</c>, <c>ushort</c>, <c>short</c>, <c>uint</c>,
/// <c>int</c>, <c>float</c>, <c>bool</c>, <c>ulong</c>, <c>long</c>, <c>double</c>), a <c>string</c>, or an array
/// (a typed .NET array of the element type: <c>float[]</c>, <c>string[]</c>, <c>int[]</c>, ...; arrays of arrays are
/// not supported, as in llama.cpp). The type is kept so a file is written back with the same bytes.
/// </summary>
public sealed class GgufValue
{
    private GgufValue(GgufValueType type, object value, GgufValueType? elementType = null)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    /// <summary>The stored type.</summary>
    public GgufValueType Type { get; }

    /// <summary>For arrays, the element type; otherwise null.</summary>
    public GgufValueType? ElementType { get; }

    /// <summary>The value (see the class remarks for the .NET types).</summary>
    public object Value { get; }

    public static GgufValue String(string value) => new(GgufValueType.String, value ?? throw new ArgumentNullException(nameof(value)));
    public static GgufValue UInt32(uint value) => new(GgufValueType.UInt32, value);
    public static GgufValue Int32(int value) => new(GgufValueType.Int32, value);
    public static GgufValue UInt64(ulong value) => new(GgufValueType.UInt64, value);
    public static GgufValue Float32(float value) => new(GgufValueType.Float32, value);
    public static GgufValue Bool(bool value) => new(GgufValueType.Bool, value);

    /// <summary>A scalar of any non-array type; <paramref name="value"/> must have the matching .NET type.</summary>
    public static GgufValue Scalar(GgufValueType type, object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (type == GgufValueType.Array || ClrType(type) != value.GetType())
            throw new ArgumentException($"A GGUF {type} scalar needs a {(type == GgufValueType.Array ? "non-array type" : ClrType(type).Name)}, got {value.GetType().Name}.", nameof(value));
        return new GgufValue(type, value);
    }

    /// <summary>An array of <paramref name="elementType"/>; <paramref name="items"/> must be the matching typed array.</summary>
    public static GgufValue Array(GgufValueType elementType, System.Array items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (elementType == GgufValueType.Array) throw new ArgumentException("Arrays of arrays are not supported.", nameof(elementType));
        if (items.GetType().GetElementType() != ClrType(elementType))
            throw new ArgumentException($"A GGUF array of {elementType} needs a {ClrType(elementType).Name}[], got {items.GetType().Name}.", nameof(items));
        return new GgufValue(GgufValueType.Array, items, elementType);
    }

    public static GgufValue Strings(IEnumerable<string> items) => Array(GgufValueType.String, items.ToArray());
    public static GgufValue Floats(IEnumerable<float> items) => Array(GgufValueType.Float32, items.ToArray());
    public static GgufValue Int32s(IEnumerable<int> items) => Array(GgufValueType.Int32, items.ToArray());

    /// <summary>The .NET type that holds a scalar (or an array element) of <paramref name="type"/>.</summary>
    public static Type ClrType(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => typeof(byte),
        GgufValueType.Int8 => typeof(sbyte),
        GgufValueType.UInt16 => typeof(ushort),
        GgufValueType.Int16 => typeof(short),
        GgufValueType.UInt32 => typeof(uint),
        GgufValueType.Int32 => typeof(int),
        GgufValueType.Float32 => typeof(float),
        GgufValueType.Bool => typeof(bool),
        GgufValueType.String => typeof(string),
        GgufValueType.UInt64 => typeof(ulong),
        GgufValueType.Int64 => typeof(long),
        GgufValueType.Float64 => typeof(double),
        _ => typeof(System.Array),
    };

    /// <summary>Whether <paramref name="type"/> is one of the integer types.</summary>
    public static bool IsInteger(GgufValueType type) =>
        type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16 or GgufValueType.UInt32
            or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>A short display form (arrays: type and length).</summary>
    public override string ToString() =>
        Type == GgufValueType.Array ? $"[{((System.Array)Value).Length} x {ElementType}]" : $"{Type} {Value}";
}
