namespace FineTune.MLNet.Formats.Onnx;

/// <summary>One dimension of a tensor shape: a fixed size, a symbolic name (e.g. "batch"), or unknown.</summary>
public readonly record struct OnnxDim(long? Value, string? Param)
{
    public static OnnxDim Fixed(long value) => new(value, null);

    public static OnnxDim Symbolic(string name) => new(null, name);

    public static OnnxDim Unknown => new(null, null);

    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Param ?? "?";
}

/// <summary>
/// An ONNX <c>ValueInfoProto</c> for a tensor: name, element type and shape.
/// <see cref="Shape"/> null means the rank is unknown (no shape field).
/// </summary>
public sealed class OnnxValueInfo
{
    public required string Name { get; init; }

    public OnnxDataType ElemType { get; init; } = OnnxDataType.Float;

    public IReadOnlyList<OnnxDim>? Shape { get; init; }

    public override string ToString() =>
        $"{Name}: {ElemType}" + (Shape is null ? "[?]" : $"[{string.Join(",", Shape)}]");
}
