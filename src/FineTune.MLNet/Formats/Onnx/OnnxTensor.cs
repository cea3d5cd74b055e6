using System.Runtime.InteropServices;

namespace FineTune.MLNet.Formats.Onnx;

/// <summary>
/// An ONNX <c>TensorProto</c> with its payload normalized to little-endian <see cref="RawData"/>
/// (whether the file stored it in <c>raw_data</c> or in <c>float_data</c>/<c>int32_data</c>/<c>int64_data</c>/<c>double_data</c>).
/// Tensors read from a file share the file's buffer; <see cref="RawData"/>.Length always equals
/// <see cref="ElementCount"/> times the element size.
/// </summary>
public sealed class OnnxTensor
{
    public OnnxTensor(string name, OnnxDataType dataType, long[] dims, ReadOnlyMemory<byte> rawData)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dims);
        int elementSize = OnnxDataTypes.ElementSize(dataType)
            ?? throw new OnnxFormatException($"Tensor '{name}': data type {dataType} ({(int)dataType}) is not supported.");
        long count = CountElements(name, dims);
        long expectedBytes = count * elementSize;
        if (rawData.Length != expectedBytes)
        {
            throw new OnnxFormatException(
                $"Tensor '{name}': payload is {rawData.Length} bytes, expected {expectedBytes} " +
                $"({count} elements of {dataType} for dims [{string.Join(",", dims)}]).");
        }
        Name = name;
        DataType = dataType;
        Dims = dims;
        RawData = rawData;
    }

    public string Name { get; }

    public OnnxDataType DataType { get; }

    public long[] Dims { get; }

    /// <summary>Little-endian element bytes, row-major.</summary>
    public ReadOnlyMemory<byte> RawData { get; }

    public long ElementCount => RawData.Length / OnnxDataTypes.ElementSize(DataType)!.Value;

    public static OnnxTensor FromFloats(string name, long[] dims, ReadOnlySpan<float> values) =>
        new(name, OnnxDataType.Float, dims, MemoryMarshal.AsBytes(values).ToArray());

    public static OnnxTensor FromInt64s(string name, long[] dims, ReadOnlySpan<long> values) =>
        new(name, OnnxDataType.Int64, dims, MemoryMarshal.AsBytes(values).ToArray());

    public static OnnxTensor FromInt32s(string name, long[] dims, ReadOnlySpan<int> values) =>
        new(name, OnnxDataType.Int32, dims, MemoryMarshal.AsBytes(values).ToArray());

    public float[] ToFloatArray() => ToArray<float>(OnnxDataType.Float);

    public long[] ToInt64Array() => ToArray<long>(OnnxDataType.Int64);

    public int[] ToInt32Array() => ToArray<int>(OnnxDataType.Int32);

    public override string ToString() => $"{Name}: {DataType}[{string.Join(",", Dims)}]";

    private T[] ToArray<T>(OnnxDataType expected) where T : unmanaged
    {
        if (DataType != expected)
        {
            throw new InvalidOperationException($"Tensor '{Name}' holds {DataType}, not {expected}.");
        }
        return MemoryMarshal.Cast<byte, T>(RawData.Span).ToArray();
    }

    /// <summary>Product of dims; rejects negative dims and overflow. Throws naming the tensor.</summary>
    internal static long CountElements(string name, IReadOnlyList<long> dims)
    {
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0)
            {
                throw new OnnxFormatException($"Tensor '{name}': negative dimension {d} in dims [{string.Join(",", dims)}].");
            }
            try
            {
                count = checked(count * d);
            }
            catch (OverflowException)
            {
                throw new OnnxFormatException($"Tensor '{name}': element count of dims [{string.Join(",", dims)}] overflows.");
            }
        }
        if (count > Array.MaxLength)
        {
            throw new OnnxFormatException($"Tensor '{name}': {count} elements is more than this reader supports ({Array.MaxLength}).");
        }
        return count;
    }
}
