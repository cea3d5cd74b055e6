using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Modules;

namespace FineTune.MLNet.Training.Resume;

/// <summary>
/// <c>manifest.json</c> of a checkpoint folder: every other file's size and SHA-256. It is written last (and flushed),
/// so its presence marks a complete checkpoint, and <see cref="Verify"/> finds a truncated or altered file before any
/// of it is loaded.
/// </summary>
public sealed record ResumeCheckpointManifest
{
    /// <summary>File name of the manifest inside a checkpoint folder.</summary>
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Optimizer step the checkpoint was written after.</summary>
    [JsonPropertyName("global_step")] public long GlobalStep { get; init; }

    /// <summary>The checkpoint's files (manifest excluded), by name.</summary>
    [JsonPropertyName("files")] public List<Entry> Files { get; init; } = [];

    /// <summary>One file: name relative to the checkpoint folder, size in bytes, lowercase hex SHA-256.</summary>
    public sealed record Entry(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("bytes")] long Bytes,
        [property: JsonPropertyName("sha256")] string Sha256);

    /// <summary>Hashes every file of <paramref name="folder"/> and writes (atomically, flushed) its manifest there.</summary>
    public static ResumeCheckpointManifest Write(string folder, long globalStep)
    {
        var files = Directory.GetFiles(folder)
            .Select(Path.GetFileName)
            .Where(n => n is not null && n != FileName && !n.StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .Select(n => Describe(folder, n!))
            .ToList();
        var manifest = new ResumeCheckpointManifest { GlobalStep = globalStep, Files = files };
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(manifest, Json));
        return manifest;
    }

    /// <summary>Reads the manifest of <paramref name="folder"/> and checks each file's size and hash; throws naming the first mismatch.</summary>
    public static ResumeCheckpointManifest Verify(string folder)
    {
        var path = Path.Combine(folder, FileName);
        ResumeCheckpointManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ResumeCheckpointManifest>(File.ReadAllText(path))
                       ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid checkpoint manifest: {e.Message}", e);
        }
        foreach (var expected in manifest.Files)
        {
            if (expected.Name.Contains('/') || expected.Name.Contains('\\') || expected.Name is "." or "..")
                throw new InvalidDataException($"{path} lists '{expected.Name}', which is not a file name.");
            var file = Path.Combine(folder, expected.Name);
            if (!File.Exists(file)) throw new InvalidDataException($"{file} is missing (listed in {FileName}).");
            var length = new FileInfo(file).Length;
            if (length != expected.Bytes) throw new InvalidDataException($"{file} has {length} bytes; {FileName} says {expected.Bytes}.");
            var actual = Describe(folder, expected.Name);
            if (!string.Equals(actual.Sha256, expected.Sha256, StringComparison.Ordinal))
                throw new InvalidDataException($"{file} has SHA-256 {actual.Sha256}; {FileName} says {expected.Sha256}.");
        }
        return manifest;
    }

    private static Entry Describe(string folder, string name)
    {
        using var stream = new FileStream(Path.Combine(folder, name), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var hash = SHA256.HashData(stream);
        return new Entry(name, stream.Length, Convert.ToHexStringLower(hash));
    }
}
