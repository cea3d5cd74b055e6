using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;
using FineTune.MLNet.Formats.Json;
using FineTune.MLNet.Formats.SafeTensors;

namespace FineTune.MLNet.Formats.HuggingFace;

/// <summary>
/// Hugging Face checkpoint folders: <c>model.safetensors</c>, or shards listed in
/// <c>model.safetensors.index.json</c> (<c>{"metadata": {"total_size": n}, "weight_map": {tensor: shard file}}</c>).
/// Pickle checkpoints (<c>pytorch_model.bin</c>, <c>*.pt</c>, <c>*.pth</c>, <c>*.ckpt</c>) are refused: unpickling
/// can run arbitrary code.
/// </summary>
public static class HfCheckpoint
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>Cap on <c>model.safetensors.index.json</c>: real ones list a few thousand tensors in well under a megabyte.</summary>
    public const long MaxIndexBytes = 64L << 20;

    private static readonly string[] PickleFileNames = ["pytorch_model.bin", "pytorch_model.bin.index.json"];
    private static readonly string[] PickleExtensions = [".pt", ".pth", ".ckpt", ".bin"];

    /// <summary>
    /// Loads all tensors of the checkpoint in <paramref name="dir"/> (CPU, stored dtypes). With an index, every
    /// shard must be a file inside the folder and every listed tensor must be in its shard.
    /// </summary>
    public static Dictionary<string, Tensor> LoadFolder(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"Checkpoint folder '{dir}' does not exist.");
        }
        var single = Path.Combine(dir, SingleFileName);
        if (File.Exists(single))
        {
            return SafeTensorsFile.Load(single);
        }
        var index = Path.Combine(dir, IndexFileName);
        if (File.Exists(index))
        {
            return LoadSharded(dir, index);
        }
        var pickle = FindPickle(dir);
        if (pickle is not null)
        {
            throw new NotSupportedException(
                $"Checkpoint folder '{dir}' has only a pickle checkpoint ('{Path.GetFileName(pickle)}'), which is not loaded " +
                "for safety: unpickling can run arbitrary code. Convert it to safetensors first, e.g. in Python with " +
                "transformers: AutoModel.from_pretrained(dir).save_pretrained(out_dir, safe_serialization=True), or " +
                "safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors').");
        }
        throw new FileNotFoundException(
            $"Checkpoint folder '{dir}' has neither '{SingleFileName}' nor '{IndexFileName}'.", single);
    }

    /// <summary>
    /// Every tensor's dtype and shape from the headers alone (nothing is loaded), with the same layout checks as
    /// <see cref="LoadFolder"/>: each shard a file inside the folder, each tensor in the shard the index names.
    /// </summary>
    public static IReadOnlyDictionary<string, SafeTensorInfo> ReadTensorInfos(string dir) =>
        Layout(dir).SelectMany(f => SafeTensorsFile.ReadHeader(f)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>
    /// Streams the checkpoint shard by shard, tensor by tensor (CPU, stored dtype) to <paramref name="each"/>; each
    /// tensor is disposed when the call returns, so at most one tensor of the checkpoint is in memory at a time.
    /// </summary>
    public static void StreamFolder(string dir, Action<string, Tensor> each)
    {
        ArgumentNullException.ThrowIfNull(each);
        foreach (var file in Layout(dir)) SafeTensorsFile.Stream(file, each);
    }

    /// <summary>The safetensors files of the checkpoint in load order, checked against the index from their headers.</summary>
    private static List<string> Layout(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Checkpoint folder '{dir}' does not exist.");
        var single = Path.Combine(dir, SingleFileName);
        if (File.Exists(single)) return [single];
        var indexPath = Path.Combine(dir, IndexFileName);
        if (!File.Exists(indexPath))
        {
            _ = LoadFolder(dir);   // throws the pickle or missing-file message
            throw new FileNotFoundException($"Checkpoint folder '{dir}' has neither '{SingleFileName}' nor '{IndexFileName}'.", single);
        }
        var weightMap = ReadWeightMap(indexPath);
        var folder = Path.GetFullPath(dir);
        var origin = new Dictionary<string, string>(StringComparer.Ordinal);
        var files = new List<string>();
        foreach (var shard in weightMap.Values.Distinct().Order(StringComparer.Ordinal))
        {
            var full = Path.GetFullPath(Path.Combine(folder, shard));
            if (Path.IsPathRooted(shard) || Path.GetDirectoryName(full) != folder.TrimEnd(Path.DirectorySeparatorChar))
                throw new SafeTensorsFormatException(indexPath, $"shard '{shard}' is not a file name inside the checkpoint folder");
            if (!File.Exists(full))
                throw new SafeTensorsFormatException(indexPath, $"shard '{shard}' listed in weight_map does not exist in '{dir}'");
            foreach (var name in SafeTensorsFile.ReadHeader(full).Keys)
            {
                if (!origin.TryAdd(name, shard))
                    throw new SafeTensorsFormatException(indexPath, $"tensor '{name}' is stored in both '{origin[name]}' and '{shard}'");
            }
            files.Add(full);
        }
        foreach (var (name, shard) in weightMap)
        {
            if (!origin.TryGetValue(name, out var actual) || actual != shard)
            {
                var where = actual is null ? "in no shard" : $"in '{actual}'";
                throw new SafeTensorsFormatException(indexPath, $"weight_map puts tensor '{name}' in '{shard}', but it is {where}");
            }
        }
        return files;
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="dir"/>: one <c>model.safetensors</c>, or, when
    /// <paramref name="maxShardBytes"/> is set and the tensors exceed it, shards
    /// <c>model-0000i-of-0000n.safetensors</c> packed greedily in name order plus the index. Every file is written
    /// atomically, the index last; files of an earlier checkpoint in the other layout are removed.
    /// </summary>
    public static void SaveFolder(string dir, IReadOnlyDictionary<string, Tensor> tensors, long? maxShardBytes = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        ArgumentNullException.ThrowIfNull(tensors);
        if (maxShardBytes is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxShardBytes), maxShardBytes, "maxShardBytes must be positive.");
        }
        Directory.CreateDirectory(dir);
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var sizes = names.ToDictionary(n => n, n => SafeTensorsFile.StoredBytes(tensors[n]), StringComparer.Ordinal);
        long total = sizes.Values.Sum();
        if (maxShardBytes is null || total <= maxShardBytes)
        {
            SafeTensorsFile.Save(Path.Combine(dir, SingleFileName), tensors);
            DeleteShardedLayout(dir, keep: []);
            return;
        }
        var shards = Pack(names, sizes, maxShardBytes.Value);
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var files = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            var file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafeTensorsFile.Save(Path.Combine(dir, file), shards[i].ToDictionary(n => n, n => tensors[n], StringComparer.Ordinal));
            files.Add(file);
            foreach (var name in shards[i])
            {
                weightMap[name] = file;
            }
        }
        var map = new JsonObject();
        foreach (var (name, file) in weightMap)
        {
            map[name] = file;
        }
        var indexJson = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = total },
            ["weight_map"] = map,
        };
        AtomicFile.WriteAllText(Path.Combine(dir, IndexFileName), indexJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Delete(Path.Combine(dir, SingleFileName));
        DeleteShardedLayout(dir, keep: files, keepIndex: true);
    }

    private static List<List<string>> Pack(List<string> names, Dictionary<string, long> sizes, long maxShardBytes)
    {
        var shards = new List<List<string>>();
        var current = new List<string>();
        long currentBytes = 0;
        foreach (var name in names)
        {
            if (current.Count > 0 && currentBytes + sizes[name] > maxShardBytes)
            {
                shards.Add(current);
                current = [];
                currentBytes = 0;
            }
            current.Add(name);
            currentBytes += sizes[name];
        }
        shards.Add(current);
        return shards;
    }

    private static Dictionary<string, Tensor> LoadSharded(string dir, string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        var folder = Path.GetFullPath(dir);
        var folderPrefix = Path.EndsInDirectorySeparator(folder) ? folder : folder + Path.DirectorySeparatorChar;
        foreach (var shard in weightMap.Values.Distinct())
        {
            var full = Path.GetFullPath(Path.Combine(folder, shard));
            if (Path.IsPathRooted(shard) || !full.StartsWith(folderPrefix, StringComparison.Ordinal)
                || Path.GetDirectoryName(full) != folder.TrimEnd(Path.DirectorySeparatorChar))
            {
                throw new SafeTensorsFormatException(indexPath, $"shard '{shard}' is not a file name inside the checkpoint folder");
            }
            if (!File.Exists(full))
            {
                throw new SafeTensorsFormatException(indexPath, $"shard '{shard}' listed in weight_map does not exist in '{dir}'");
            }
        }
        using var scope = torch.NewDisposeScope();
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var origin = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var shard in weightMap.Values.Distinct().Order(StringComparer.Ordinal))
        {
            var tensors = SafeTensorsFile.Load(Path.Combine(folder, shard));
            foreach (var (name, tensor) in tensors)
            {
                if (!origin.TryAdd(name, shard))
                {
                    throw new SafeTensorsFormatException(indexPath, $"tensor '{name}' is stored in both '{origin[name]}' and '{shard}'");
                }
                result[name] = tensor;
            }
        }
        foreach (var (name, shard) in weightMap)
        {
            if (!origin.TryGetValue(name, out var actual) || actual != shard)
            {
                var where = actual is null ? "in no shard" : $"in '{actual}'";
                throw new SafeTensorsFormatException(indexPath, $"weight_map puts tensor '{name}' in '{shard}', but it is {where}");
            }
        }
        scope.MoveToOuter(result.Values);
        return result;
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        JsonNode? root;
        using (var doc = JsonInput.ParseFile(indexPath, "Checkpoint index", (problem, inner) => new SafeTensorsFormatException(indexPath, "the index " + problem, inner), MaxIndexBytes))
        {
            root = JsonNode.Parse(doc.RootElement.GetRawText());
        }
        if (root is not JsonObject obj || obj["weight_map"] is not JsonObject map)
        {
            throw new SafeTensorsFormatException(indexPath, "the index has no 'weight_map' object");
        }
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in map)
        {
            if (value is not JsonValue v || !v.TryGetValue<string>(out var shard) || shard.Length == 0
                || shard.Contains('\0'))
            {
                throw new SafeTensorsFormatException(indexPath, $"weight_map entry '{name}' must be a shard file name");
            }
            weightMap[name] = shard;
        }
        return weightMap;
    }

    private static string? FindPickle(string dir) =>
        Directory.EnumerateFiles(dir)
            .Where(f => PickleFileNames.Contains(Path.GetFileName(f))
                || PickleExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .FirstOrDefault();

    private static void DeleteShardedLayout(string dir, HashSet<string> keep, bool keepIndex = false)
    {
        if (!keepIndex)
        {
            File.Delete(Path.Combine(dir, IndexFileName));
        }
        foreach (var file in Directory.EnumerateFiles(dir, "model-*-of-*.safetensors"))
        {
            if (!keep.Contains(Path.GetFileName(file)))
            {
                File.Delete(file);
            }
        }
    }
}
