using static TorchSharp.torch;

namespace FineTune.MLNet.Formats.SafeTensors;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="DType">The safetensors dtype name, e.g. <c>F32</c>, <c>BF16</c>.</param>
/// <param name="ScalarType">The TorchSharp type the tensor loads as (its stored type, not upcast).</param>
/// <param name="Shape">Dimensions, C order; empty for a scalar.</param>
/// <param name="DataBegin">Start of the tensor's bytes, relative to the data buffer after the header.</param>
/// <param name="DataEnd">End (exclusive) of the tensor's bytes, relative to the data buffer.</param>
public sealed record SafeTensorInfo(string DType, ScalarType ScalarType, IReadOnlyList<long> Shape, long DataBegin, long DataEnd)
{
    /// <summary>Number of bytes the tensor occupies in the file.</summary>
    public long ByteLength => DataEnd - DataBegin;

    /// <summary>The shape as an array, for torch factory calls.</summary>
    public long[] ShapeArray() => [.. Shape];
}
