using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using FineTune.MLNet.Formats.Json;

namespace FineTune.MLNet.Formats.SafeTensors;

/// <summary>
/// The parsed and validated header of one safetensors file. Layout (huggingface/safetensors README "Format"):
/// an 8-byte little-endian u64 N, N bytes of UTF-8 JSON <c>{name: {dtype, shape, data_offsets}, "__metadata__": {..}}</c>,
/// then the data buffer, which the tensors' offsets must tile exactly (no overlaps, no holes, nothing after).
/// </summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>Largest header accepted; real headers are kilobytes, this guards against absurd allocations.</summary>
    internal const long MaxHeaderBytes = 100_000_000;

    internal const string MetadataKey = "__metadata__";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private SafeTensorsHeader(long dataStart, long dataLength, Dictionary<string, SafeTensorInfo> tensors,
        Dictionary<string, string> metadata, List<string> dataOrder)
    {
        DataStart = dataStart;
        DataLength = dataLength;
        Tensors = tensors;
        Metadata = metadata;
        NamesInDataOrder = dataOrder;
    }

    /// <summary>File offset of the data buffer (8 + header length).</summary>
    internal long DataStart { get; }

    /// <summary>Length of the data buffer in bytes (file length minus <see cref="DataStart"/>).</summary>
    internal long DataLength { get; }

    internal IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }

    internal IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor names sorted by their offset in the data buffer (the order to read them sequentially).</summary>
    internal IReadOnlyList<string> NamesInDataOrder { get; }

    internal static SafeTensorsHeader Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads the header from the start of <paramref name="stream"/>; leaves it positioned after the header.</summary>
    internal static SafeTensorsHeader Read(Stream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw Bad(path, $"the file is {fileLength} bytes, shorter than the 8-byte header length prefix");
        }
        Span<byte> prefix = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
        {
            throw Bad(path, $"header length {headerLength} bytes exceeds the {MaxHeaderBytes}-byte limit (corrupt or not a safetensors file)");
        }
        if ((long)headerLength > fileLength - 8)
        {
            throw Bad(path, $"header length {headerLength} bytes is larger than the {fileLength - 8} bytes that follow the length prefix (truncated or corrupt)");
        }
        var bytes = new byte[headerLength];
        stream.ReadExactly(bytes);
        long dataStart = 8 + (long)headerLength;
        var (tensors, metadata) = Parse(bytes, path, fileLength - dataStart);
        var order = CheckCoverage(tensors, fileLength - dataStart, path);
        return new SafeTensorsHeader(dataStart, fileLength - dataStart, tensors, metadata, order);
    }

    private static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) Parse(byte[] bytes, string path, long dataLength)
    {
        try
        {
            StrictUtf8.GetCharCount(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw Bad(path, $"the header is not valid UTF-8 (bad byte at header offset {e.Index})");
        }
        if (bytes.Length == 0 || bytes[0] != (byte)'{')
        {
            throw Bad(path, "the header must be a JSON object starting with '{'");
        }
        using (var doc = JsonInput.Parse(bytes, (problem, inner) => Bad(path, "the header " + problem, inner)))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Bad(path, "the header must be a JSON object");
            }
            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw Bad(path, $"the header has the key '{property.Name}' twice");
                }
                if (property.Name == MetadataKey)
                {
                    ParseMetadata(property.Value, metadata, path);
                }
                else
                {
                    tensors[property.Name] = ParseTensor(property.Name, property.Value, dataLength, path);
                }
            }
            return (tensors, metadata);
        }
    }

    private static void ParseMetadata(JsonElement element, Dictionary<string, string> metadata, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Bad(path, $"'{MetadataKey}' must be a JSON object of string values, got {element.ValueKind}");
        }
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw Bad(path, $"'{MetadataKey}' entry '{entry.Name}' must be a string, got {entry.Value.ValueKind}");
            }
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
            {
                throw Bad(path, $"'{MetadataKey}' has the key '{entry.Name}' twice");
            }
        }
    }

    private static SafeTensorInfo ParseTensor(string name, JsonElement element, long dataLength, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Bad(path, $"tensor '{name}': the entry must be a JSON object, got {element.ValueKind}");
        }
        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw Bad(path, $"tensor '{name}': 'dtype' is missing or not a string");
        }
        var dtypeName = dtypeElement.GetString()!;
        if (!SafeTensorDTypes.TryFromName(dtypeName, out var dtype))
        {
            throw Bad(path, $"tensor '{name}': {SafeTensorDTypes.Unsupported(dtypeName)}");
        }
        var shape = ReadIntegers(element, "shape", name, path);
        var shapeText = $"[{string.Join(", ", shape)}]";
        if (shape.Any(d => d < 0))
        {
            throw Bad(path, $"tensor '{name}': shape {shapeText} has a negative dimension");
        }
        var offsets = ReadIntegers(element, "data_offsets", name, path);
        if (offsets.Length != 2)
        {
            throw Bad(path, $"tensor '{name}': 'data_offsets' must have 2 entries [begin, end], got {offsets.Length}");
        }
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin)
        {
            throw Bad(path, $"tensor '{name}': data_offsets [{begin}, {end}] must satisfy 0 <= begin <= end");
        }
        long byteLength;
        try
        {
            long count = 1;
            foreach (var d in shape)
            {
                count = checked(count * d);
            }
            byteLength = checked(count * dtype.ElementSize);
        }
        catch (OverflowException)
        {
            throw Bad(path, $"tensor '{name}': shape {shapeText} overflows the element count");
        }
        if (end - begin != byteLength)
        {
            throw Bad(path, $"tensor '{name}': data_offsets [{begin}, {end}] span {end - begin} bytes, but {dtypeName} with shape {shapeText} needs {byteLength} bytes");
        }
        if (end > dataLength)
        {
            throw Bad(path, $"tensor '{name}': data_offsets [{begin}, {end}] are out of range: the data buffer is {dataLength} bytes");
        }
        return new SafeTensorInfo(dtypeName, dtype.Type, shape, begin, end);
    }

    private static long[] ReadIntegers(JsonElement element, string field, string name, string path)
    {
        if (!element.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw Bad(path, $"tensor '{name}': '{field}' is missing or not an array");
        }
        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out values[i]))
            {
                throw Bad(path, $"tensor '{name}': '{field}' entry {i} ({item.GetRawText()}) is not an integer in the 64-bit range");
            }
            i++;
        }
        return values;
    }

    /// <summary>Checks that the tensors tile the data buffer exactly; returns their names in offset order.</summary>
    private static List<string> CheckCoverage(Dictionary<string, SafeTensorInfo> tensors, long dataLength, string path)
    {
        var order = tensors
            .OrderBy(kv => kv.Value.DataBegin)
            .ThenBy(kv => kv.Value.DataEnd)
            .ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key)
            .ToList();
        long position = 0;
        string? previous = null;
        foreach (var name in order)
        {
            var info = tensors[name];
            if (info.DataBegin < position)
            {
                throw Bad(path, $"tensor '{name}' (bytes [{info.DataBegin}, {info.DataEnd})) overlaps tensor '{previous}' (which ends at {position})");
            }
            if (info.DataBegin > position)
            {
                throw Bad(path, $"bytes [{position}, {info.DataBegin}) of the data buffer are not covered by any tensor (a hole before '{name}')");
            }
            position = info.DataEnd;
            previous = name;
        }
        if (position != dataLength)
        {
            throw Bad(path, $"the data buffer is {dataLength} bytes but the tensors cover only {position}: {dataLength - position} trailing bytes are not covered by any tensor");
        }
        return order;
    }

    private static SafeTensorsFormatException Bad(string path, string problem, Exception? inner = null) =>
        new(path, problem, inner);
}
