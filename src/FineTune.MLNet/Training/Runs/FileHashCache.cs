using System.Text.Json;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Models.Pretrained;

namespace FineTune.MLNet.Training.Runs;

/// <summary>
/// SHA-256 of files remembered by (full path, length, last-write time): a run folder's <c>config.json</c> fingerprints
/// the model's weights on every run, and hashing a 7B checkpoint's 13 GB each time costs minutes, so a file whose path,
/// size and modification time are unchanged is not read again. Kept in one JSON file (<see cref="DefaultPath"/>),
/// written atomically; an unreadable cache is treated as empty. A file rewritten in place with the same size and its old
/// modification time restored would keep its old hash (what <c>make</c> and <c>rsync</c> also assume).
/// </summary>
internal sealed class FileHashCache
{
    /// <summary>Entries kept at most (the most recently used).</summary>
    public const int MaxEntries = 512;

    private readonly string _cacheFile;
    private readonly object _gate = new();

    /// <param name="cacheFile">The cache's JSON file (created on first write).</param>
    public FileHashCache(string cacheFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheFile);
        _cacheFile = cacheFile;
    }

    /// <summary><c>file-sha256.json</c> in the bundled models' cache root (<see cref="PretrainedDecoders.CacheRoot"/>).</summary>
    public static string DefaultPath => Path.Combine(PretrainedDecoders.CacheRoot, "file-sha256.json");

    /// <summary>The cache at <see cref="DefaultPath"/>.</summary>
    public static FileHashCache Default { get; } = new(DefaultPath);

    /// <summary>How many files this instance has read and hashed (cache misses).</summary>
    public int FilesHashed { get; private set; }

    /// <summary>The lowercase hex SHA-256 of <paramref name="path"/>, from the cache when its path, length and modification time match.</summary>
    public string Sha256(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"Cannot fingerprint '{info.FullName}': the file does not exist.", info.FullName);
        var key = new Entry(info.Length, info.LastWriteTimeUtc.Ticks, "", 0);
        lock (_gate)
        {
            var entries = Load();
            if (entries.TryGetValue(info.FullName, out var hit) && hit.Length == key.Length && hit.LastWriteTicks == key.LastWriteTicks)
            {
                entries[info.FullName] = hit with { UsedTicks = DateTime.UtcNow.Ticks };
                Save(entries);
                return hit.Sha256;
            }
            var sha = RunFingerprints.FileSha256(info.FullName);
            FilesHashed++;
            entries[info.FullName] = key with { Sha256 = sha, UsedTicks = DateTime.UtcNow.Ticks };
            Save(entries);
            return sha;
        }
    }

    private Dictionary<string, Entry> Load()
    {
        try
        {
            return File.Exists(_cacheFile)
                ? JsonSerializer.Deserialize<Dictionary<string, Entry>>(File.ReadAllText(_cacheFile)) ?? []
                : [];
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return [];   // a damaged or unreadable cache only costs a re-hash
        }
    }

    private void Save(Dictionary<string, Entry> entries)
    {
        try
        {
            var kept = entries.OrderByDescending(e => e.Value.UsedTicks).Take(MaxEntries).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_cacheFile))!);
            AtomicFile.WriteAllText(_cacheFile, JsonSerializer.Serialize(kept));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a read-only cache folder: fingerprints are still right, only not remembered
        }
    }

    /// <summary>A remembered hash: the file's length and last-write time (UTC ticks) when hashed, and when it was last used.</summary>
    private sealed record Entry(long Length, long LastWriteTicks, string Sha256, long UsedTicks);
}
