using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Formats.SafeTensors;

/// <summary>
/// Moves raw bytes between a stream and a contiguous CPU tensor's storage, without per-element loops:
/// <see cref="Tensor.bytes"/> is a span over the tensor's own memory. Spans are limited to 2 GiB, so larger
/// tensors go through 1-D views of at most <see cref="DefaultChunkBytes"/> each.
/// </summary>
internal static class TensorBytes
{
    internal const long DefaultChunkBytes = 1L << 30;

    /// <summary>Fills <paramref name="tensor"/> (contiguous, CPU) from the stream's next bytes.</summary>
    internal static void ReadInto(Stream stream, Tensor tensor, long chunkBytes = DefaultChunkBytes) =>
        ForEachChunk(tensor, chunkBytes, span => stream.ReadExactly(span));

    /// <summary>Writes the bytes of <paramref name="tensor"/> (contiguous, CPU) to the stream.</summary>
    internal static void WriteFrom(Stream stream, Tensor tensor, long chunkBytes = DefaultChunkBytes) =>
        ForEachChunk(tensor, chunkBytes, span => stream.Write(span));

    private delegate void SpanAction(Span<byte> span);

    private static void ForEachChunk(Tensor tensor, long chunkBytes, SpanAction action)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
        {
            throw new ArgumentException("Expected a contiguous CPU tensor.", nameof(tensor));
        }
        long count = tensor.numel();
        if (count == 0)
        {
            return;
        }
        long elementSize = tensor.ElementSize;
        long totalBytes = count * elementSize;
        if (totalBytes <= chunkBytes)
        {
            action(tensor.bytes);
            return;
        }
        long perChunk = Math.Max(1, chunkBytes / elementSize);
        using var flat = tensor.view(-1); // (numel,) same storage
        for (long start = 0; start < count; start += perChunk)
        {
            using var part = flat.narrow(0, start, Math.Min(perChunk, count - start));
            action(part.bytes);
        }
    }
}
