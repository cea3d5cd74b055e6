using System.Security.Cryptography;
using FineTune.MLNet.Formats;

namespace FineTune.MLNet.Models.Pretrained;

/// <summary>
/// The decoder LLMs that ship inside the library, by name, as <c>minilm</c> ships for encoders. Each is a Hugging Face
/// <c>LlamaForCausalLM</c> folder embedded in the assembly; <see cref="ResolveFolder"/> extracts it once to a per-user
/// cache folder (named by the content hash, written atomically, checked against the embedded bytes on every use) and
/// returns that path, so every API that opens a decoder folder also takes the name. No download.
/// <list type="bullet">
/// <item><c>tinystories-260k</c>: Karpathy's llama2.c <c>stories260K</c> (MIT), a Llama trained on TinyStories
/// (5 layers, dim 64, 8 heads / 4 kv heads, vocab 512, 260K parameters), imported by
/// <c>Import.Llama2c.Llama2cImporter</c>.</item>
/// </list>
/// </summary>
public static class PretrainedDecoders
{
    /// <summary>The bundled TinyStories decoder.</summary>
    public const string TinyStories260K = "tinystories-260k";

    /// <summary>Environment variable that overrides the cache root (default: the user's local application data folder).</summary>
    public const string CacheVariable = "FINETUNE_MLNET_CACHE";

    private const string ResourcePrefix = "FineTune.MLNet.Pretrained.";
    private static readonly object s_lock = new();

    /// <summary>Names of the bundled decoders.</summary>
    public static IReadOnlyList<string> Names { get; } = [TinyStories260K];

    /// <summary>Whether <paramref name="model"/> names a bundled decoder (case-insensitive).</summary>
    public static bool IsName(string? model) => model is not null && Names.Any(n => string.Equals(n, model, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The folder to open for <paramref name="modelOrFolder"/>: an existing folder as given; a bundled name's cache
    /// folder (extracted on first use); anything else unchanged (the caller's "folder does not exist" error names it).
    /// A folder that happens to carry a bundled name wins over the name.
    /// </summary>
    public static string ResolveFolder(string modelOrFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelOrFolder);
        if (Directory.Exists(modelOrFolder) || !IsName(modelOrFolder)) return modelOrFolder;
        var name = Names.First(n => string.Equals(n, modelOrFolder, StringComparison.OrdinalIgnoreCase));
        lock (s_lock) return Extract(name);
    }

    /// <summary>File name → embedded bytes of a bundled decoder.</summary>
    internal static SortedDictionary<string, byte[]> Files(string name)
    {
        var assembly = typeof(PretrainedDecoders).Assembly;
        var prefix = ResourcePrefix + name + ".";
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[resource[prefix.Length..]] = copy.ToArray();
        }
        if (files.Count == 0) throw new InvalidOperationException($"The bundled model '{name}' is missing from {assembly.GetName().Name}.dll (no embedded resources '{prefix}*').");
        return files;
    }

    /// <summary>The cache root: <see cref="CacheVariable"/> or <c>LocalApplicationData/FineTune.MLNet/models</c>.</summary>
    public static string CacheRoot =>
        Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } root ? root
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create) is { Length: > 0 } local
                ? local : Path.GetTempPath(), "FineTune.MLNet", "models");

    private static string Extract(string name)
    {
        var files = Files(name);
        var hash = ContentHash(files);
        var folder = Path.Combine(CacheRoot, $"{name}-{hash[..16]}");
        if (Matches(folder, files)) return folder;
        Directory.CreateDirectory(CacheRoot);
        var temp = Path.Combine(CacheRoot, $".{name}-{Guid.NewGuid():N}{AtomicFile.TempSuffix}");
        Directory.CreateDirectory(temp);
        try
        {
            foreach (var (file, bytes) in files) File.WriteAllBytes(Path.Combine(temp, file), bytes);
            DurableDirectory.Flush(temp);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);    // a damaged earlier copy
            Directory.Move(temp, folder);
            DurableDirectory.Flush(CacheRoot);
        }
        catch (IOException) when (Matches(folder, files))
        {
            // Another process extracted it first.
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        if (!Matches(folder, files)) throw new IOException($"The bundled model '{name}' could not be extracted to '{folder}' (its files differ from the embedded ones).");
        return folder;
    }

    private static bool Matches(string folder, SortedDictionary<string, byte[]> files)
    {
        if (!Directory.Exists(folder)) return false;
        foreach (var (file, bytes) in files)
        {
            var path = Path.Combine(folder, file);
            if (!File.Exists(path) || new FileInfo(path).Length != bytes.Length) return false;
            if (!SHA256.HashData(File.ReadAllBytes(path)).AsSpan().SequenceEqual(SHA256.HashData(bytes))) return false;
        }
        return true;
    }

    private static string ContentHash(SortedDictionary<string, byte[]> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (file, bytes) in files)
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(file + "\n"));
            sha.AppendData(SHA256.HashData(bytes));
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }
}
