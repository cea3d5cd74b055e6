using System.Globalization;
using Google.Protobuf.Collections;
using Proto = global::Onnx;

namespace FineTune.MLNet.Formats.Onnx;

/// <summary>
/// ONNX external data (onnx.proto <c>TensorProto.external_data</c>, <c>data_location = EXTERNAL</c>): a tensor's bytes in
/// a separate file beside the model, named by <c>location</c> (relative to the model's folder) at <c>offset</c> for
/// <c>length</c> bytes. Reading checks the location stays inside the folder and the range against dims and the file's
/// size before allocating; writing puts tensors in one data file at 4096-byte aligned offsets, as ONNX Runtime maps them.
/// </summary>
internal static class OnnxExternalData
{
    public const int Alignment = 4096;

    /// <summary>The payload of external tensor <paramref name="tensor"/>: <paramref name="expectedBytes"/> from its dims.</summary>
    public static byte[] Read(RepeatedField<Proto.StringStringEntryProto> entries, string tensor, string folder, long expectedBytes)
    {
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (Proto.StringStringEntryProto entry in entries)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = NonNegative(entry.Value, "offset", tensor); break;
                case "length": length = NonNegative(entry.Value, "length", tensor); break;
            }
        }
        if (string.IsNullOrEmpty(location))
        {
            throw new OnnxFormatException($"Tensor '{tensor}' is stored as external data but has no 'location' entry.");
        }
        if (Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
        {
            throw new OnnxFormatException($"Tensor '{tensor}': external data location '{location}' must be a relative path inside the model's folder.");
        }
        if (length is long declared && declared != expectedBytes)
        {
            throw new OnnxFormatException($"Tensor '{tensor}': external data length {declared} does not match the {expectedBytes} bytes its dims and data type need.");
        }
        string path = Path.Combine(folder, location);
        if (!File.Exists(path))
        {
            throw new OnnxFormatException($"Tensor '{tensor}': external data file '{location}' not found beside the model (looked for '{path}').");
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        if (offset > stream.Length || expectedBytes > stream.Length - offset)
        {
            throw new OnnxFormatException(
                $"Tensor '{tensor}': external data range at offset {offset} for {expectedBytes} bytes runs past the end of '{location}' ({stream.Length} bytes).");
        }
        var bytes = new byte[expectedBytes];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Assigns <paramref name="tensors"/> aligned offsets in data file <paramref name="location"/>; returns the protos.</summary>
    public static List<Proto.TensorProto> Layout(IEnumerable<OnnxTensor> tensors, string location, Func<OnnxTensor, Proto.TensorProto> header)
    {
        var protos = new List<Proto.TensorProto>();
        long offset = 0;
        foreach (OnnxTensor tensor in tensors)
        {
            Proto.TensorProto proto = header(tensor);
            proto.DataLocation = Proto.TensorProto.Types.DataLocation.External;
            proto.ExternalData.Add(Entry("location", location));
            proto.ExternalData.Add(Entry("offset", offset.ToString(CultureInfo.InvariantCulture)));
            proto.ExternalData.Add(Entry("length", tensor.RawData.Length.ToString(CultureInfo.InvariantCulture)));
            protos.Add(proto);
            offset = Align(offset + tensor.RawData.Length);
        }
        return protos;
    }

    /// <summary>Writes the payloads at the offsets <see cref="Layout"/> gave them (zero padding between).</summary>
    public static void WriteData(IEnumerable<OnnxTensor> tensors, Stream stream)
    {
        long offset = 0;
        foreach (OnnxTensor tensor in tensors)
        {
            stream.Write(tensor.RawData.Span);
            long next = Align(offset + tensor.RawData.Length);
            stream.Write(new byte[next - offset - tensor.RawData.Length]);
            offset = next;
        }
    }

    private static long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    private static Proto.StringStringEntryProto Entry(string key, string value) => new() { Key = key, Value = value };

    private static long NonNegative(string text, string key, string tensor) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new OnnxFormatException($"Tensor '{tensor}': external data '{key}' is '{text}', expected a non-negative integer.");
}
