using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Formats.SafeTensors;

/// <summary>
/// Reads and writes single <c>.safetensors</c> files (huggingface/safetensors format) as TorchSharp tensors.
/// Reading validates the whole header first (dtypes, shapes, offsets tiling the data buffer exactly) and
/// rejects corrupt or hostile files with a <see cref="SafeTensorsFormatException"/> naming the file and the problem.
/// Checked against files written by the independent numpy reference (shared/reference/safetensors.py).
/// </summary>
public static class SafeTensorsFile
{
    /// <summary>
    /// Loads every tensor of the file, on the CPU, in its stored dtype (BF16 stays BF16: upcast as needed).
    /// The tensors are moved to the caller's dispose scope, if any.
    /// </summary>
    public static Dictionary<string, Tensor> Load(string path) => Load(path, TensorBytes.DefaultChunkBytes);

    internal static Dictionary<string, Tensor> Load(string path, long chunkBytes)
    {
        using var stream = OpenForReading(path);
        var header = SafeTensorsHeader.Read(stream, path);
        using var scope = torch.NewDisposeScope();
        var result = new Dictionary<string, Tensor>(header.Tensors.Count, StringComparer.Ordinal);
        foreach (var name in header.NamesInDataOrder)
        {
            var info = header.Tensors[name];
            var tensor = torch.empty(info.ShapeArray(), dtype: info.ScalarType, device: CPU); // stored shape and dtype
            stream.Position = header.DataStart + info.DataBegin;
            TensorBytes.ReadInto(stream, tensor, chunkBytes);
            result[name] = tensor;
        }
        scope.MoveToOuter(result.Values);
        return result;
    }

    /// <summary>
    /// Reads the tensors one at a time in file order (CPU, stored dtype) and hands each to <paramref name="each"/>,
    /// disposing it when the call returns: only one tensor of the file is in memory at a time.
    /// </summary>
    public static void Stream(string path, Action<string, Tensor> each)
    {
        ArgumentNullException.ThrowIfNull(each);
        using var stream = OpenForReading(path);
        var header = SafeTensorsHeader.Read(stream, path);
        foreach (var name in header.NamesInDataOrder)
        {
            var info = header.Tensors[name];
            using var scope = torch.NewDisposeScope();
            var tensor = torch.empty(info.ShapeArray(), dtype: info.ScalarType, device: CPU); // stored shape and dtype
            stream.Position = header.DataStart + info.DataBegin;
            TensorBytes.ReadInto(stream, tensor, TensorBytes.DefaultChunkBytes);
            each(name, tensor);
        }
    }

    /// <summary>Reads and validates the header only: every tensor's dtype, shape and offsets.</summary>
    public static IReadOnlyDictionary<string, SafeTensorInfo> ReadHeader(string path)
    {
        using var stream = OpenForReading(path);
        return SafeTensorsHeader.Read(stream, path).Tensors;
    }

    /// <summary>The file's <c>__metadata__</c> map (empty when it has none).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        using var stream = OpenForReading(path);
        return SafeTensorsHeader.Read(stream, path).Metadata;
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (temp file + rename), each in its
    /// own dtype, from any device. Layout as the reference writer: tensors ordered by descending dtype alignment
    /// then name, header padded with spaces to a multiple of 8 bytes. <paramref name="metadata"/> goes to
    /// <c>__metadata__</c>; <c>"format": "pt"</c> is added when absent, since transformers checks it.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, tensors, metadata, TensorBytes.DefaultChunkBytes);

    internal static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata, long chunkBytes)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var items = Layout(tensors);
        var header = HeaderBytes(items, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (var item in items)
            {
                using var scope = torch.NewDisposeScope();
                var cpu = item.Tensor.detach().cpu().contiguous();
                TensorBytes.WriteFrom(stream, cpu, chunkBytes);
            }
        });
    }

    /// <summary>Bytes each tensor takes in a safetensors file.</summary>
    internal static long StoredBytes(Tensor tensor) =>
        tensor.numel() * SafeTensorDTypes.FromTensorType(tensor.dtype).ElementSize;

    private sealed record Item(string Name, SafeTensorDTypes.Entry DType, long[] Shape, Tensor Tensor, long Begin, long End);

    private static List<Item> Layout(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var sorted = new List<(string Name, SafeTensorDTypes.Entry DType, Tensor Tensor)>();
        foreach (var (name, tensor) in tensors)
        {
            if (name == SafeTensorsHeader.MetadataKey)
            {
                throw new ArgumentException($"A tensor cannot be named '{SafeTensorsHeader.MetadataKey}'.", nameof(tensors));
            }
            if (tensor is null || tensor.IsInvalid)
            {
                throw new ArgumentException($"Tensor '{name}' is null or disposed.", nameof(tensors));
            }
            sorted.Add((name, SafeTensorDTypes.FromTensorType(tensor.dtype), tensor));
        }
        sorted.Sort((a, b) => a.DType.AlignmentRank != b.DType.AlignmentRank
            ? b.DType.AlignmentRank.CompareTo(a.DType.AlignmentRank)
            : string.CompareOrdinal(a.Name, b.Name));
        var items = new List<Item>(sorted.Count);
        long position = 0;
        foreach (var (name, dtype, tensor) in sorted)
        {
            long length = tensor.numel() * dtype.ElementSize;
            items.Add(new Item(name, dtype, tensor.shape, tensor, position, position + length));
            position += length;
        }
        return items;
    }

    private static byte[] HeaderBytes(List<Item> items, IReadOnlyDictionary<string, string>? metadata)
    {
        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            meta[key] = value ?? throw new ArgumentException($"Metadata value for '{key}' is null.", nameof(metadata));
        }
        meta.TryAdd("format", "pt");
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject(SafeTensorsHeader.MetadataKey);
            foreach (var (key, value) in meta)
            {
                json.WriteString(key, value);
            }
            json.WriteEndObject();
            foreach (var item in items)
            {
                json.WriteStartObject(item.Name);
                json.WriteString("dtype", item.DType.Name);
                json.WriteStartArray("shape");
                foreach (var d in item.Shape)
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(item.Begin);
                json.WriteNumberValue(item.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++)
        {
            buffer.WriteByte((byte)' ');
        }
        return buffer.ToArray();
    }

    private static FileStream OpenForReading(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        }
        // bufferSize 1 = unbuffered: tensor data is read straight into the tensor's storage.
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
    }
}
