using System.Runtime.InteropServices;
using Google.Protobuf;
using Proto = global::Onnx;

namespace FineTune.MLNet.Formats.Onnx;

/// <summary>
/// Reads an ONNX <c>ModelProto</c> with Google.Protobuf and the ONNX schema types generated from onnx.proto
/// (NuGet OnnxSharp), then maps it to <see cref="OnnxModel"/> (<see cref="OnnxProtoToModel"/>): ir_version,
/// opset_import, producer, and the graph's name, nodes (with attributes), initializers, inputs and outputs.
/// Malformed protobuf (truncated or malformed varints, lengths past the end, nesting deeper than
/// <see cref="MaxNesting"/> messages, strings that are not UTF-8) and ONNX the library does not support (negative dims, payloads
/// that do not match dims, unsupported data types, external data out of range or outside the model's folder,
/// sparse initializers) are refused with an
/// <see cref="OnnxFormatException"/> that names the file.
/// </summary>
public static class OnnxModelReader
{
    /// <summary>Deepest message nesting accepted (protobuf's and ONNX Runtime's default recursion limit).</summary>
    public const int MaxNesting = 100;

    public static OnnxModel Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new FileNotFoundException($"ONNX model file not found: '{path}'.", path);
        }
        return Read(bytes, Path.GetFileName(path), Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    public static OnnxModel Read(Stream stream, string sourceName = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek)
        {
            long length = stream.Length - stream.Position;
            if (length > Array.MaxLength)
            {
                throw new OnnxFormatException($"ONNX model '{sourceName}' is {length} bytes; protobuf models are limited to 2 GB.");
            }
            byte[] exact = new byte[length];
            stream.ReadExactly(exact);
            return Read(exact, sourceName);
        }
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Read(copy.GetBuffer().AsMemory(0, (int)copy.Length), sourceName);
    }

    /// <summary>
    /// Parses <paramref name="bytes"/>; tensors get their own copies of the payload bytes. Tensors stored as external
    /// data are refused here (there is no folder to find their file in): use <see cref="Read(string)"/>.
    /// </summary>
    public static OnnxModel Read(ReadOnlyMemory<byte> bytes, string sourceName = "bytes") => Read(bytes, sourceName, externalDataFolder: null);

    private static OnnxModel Read(ReadOnlyMemory<byte> bytes, string sourceName, string? externalDataFolder)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The ONNX reader assumes a little-endian host.");
        }
        if (bytes.IsEmpty)
        {
            throw new OnnxFormatException($"ONNX model '{sourceName}' is empty.");
        }
        Proto.ModelProto proto = Parse(bytes, sourceName);
        try
        {
            return new OnnxProtoToModel(externalDataFolder).Convert(proto, sourceName);
        }
        catch (OnnxFormatException e) when (!e.Message.Contains($"'{sourceName}'", StringComparison.Ordinal))
        {
            throw new OnnxFormatException($"ONNX model '{sourceName}': {e.Message}", e); // tensor checks do not know the file
        }
    }

    /// <summary>
    /// Parses the wire format from the buffer (one copy per tensor payload: the parser owns its bytes). Every length
    /// prefix is checked against the bytes that are there before anything is allocated for it, so a hostile length
    /// cannot make the reader allocate more than the input's size. Google.Protobuf's recursion limit for a buffer is
    /// its default, <see cref="MaxNesting"/>.
    /// </summary>
    private static Proto.ModelProto Parse(ReadOnlyMemory<byte> bytes, string sourceName)
    {
        ArraySegment<byte> segment = MemoryMarshal.TryGetArray(bytes, out ArraySegment<byte> s) ? s : new ArraySegment<byte>(bytes.ToArray());
        var input = new CodedInputStream(segment.Array!, segment.Offset, segment.Count);
        var model = new Proto.ModelProto();
        try
        {
            model.MergeFrom(input);
            return model;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxFormatException(
                $"ONNX model '{sourceName}' is not a valid protobuf ModelProto (error near byte {input.Position} of {bytes.Length}; " +
                $"nesting limit {MaxNesting}): {e.Message}", e);
        }
    }
}
