using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Training.Runs;

/// <summary>What model a run started from: a bundled name (<see cref="Bundled"/>) and/or a folder with the SHA-256 of its
/// <c>config.json</c> and weight files (<c>*.safetensors</c>, <c>*.bin</c>, <c>*.gguf</c>), by file name (remembered across
/// runs by path, size and modification time in <see cref="FileHashCache"/>, so a 7B checkpoint is read once, not on every run).</summary>
/// <param name="Adapter">A starting adapter folder (DPO's AdapterPath) with the SHA-256 of its files, or null.</param>
public sealed record ModelFingerprint(string Source, string? Bundled, string? Folder, IReadOnlyDictionary<string, string> Sha256,
    string? Adapter = null, IReadOnlyDictionary<string, string>? AdapterSha256 = null);

/// <summary>What data a run trained on: its role (<c>training</c>, <c>validation</c>), row count, the columns read and the
/// SHA-256 of their values row by row (UTF-8, each value length-prefixed, so the same rows give the same hash whatever file they came from).</summary>
public sealed record DataFingerprint(string Role, long Rows, IReadOnlyList<string> Columns, string Sha256);

/// <summary>Computes <see cref="ModelFingerprint"/> and <see cref="DataFingerprint"/>.</summary>
internal static class RunFingerprints
{
    private static readonly string[] WeightPatterns = ["*.safetensors", "*.bin", "*.gguf"];

    /// <param name="source">The model option as given (a bundled name or a folder).</param>
    /// <param name="bundled">The bundled model's id when <paramref name="source"/> names one, else null.</param>
    /// <param name="folder">The checkpoint folder actually read, or null (a bundled model without a folder).</param>
    /// <param name="adapter">A starting PEFT adapter folder (its adapter_config.json and weights are hashed), or null.</param>
    /// <param name="hashes">Where file hashes are remembered by path, size and modification time (default <see cref="FileHashCache.Default"/>).</param>
    public static ModelFingerprint Model(string source, string? bundled, string? folder, string? adapter = null, FileHashCache? hashes = null)
    {
        hashes ??= FileHashCache.Default;
        return new(source, bundled, folder is null ? null : Path.GetFullPath(folder), FolderHashes(folder, "config.json", hashes),
            adapter is null ? null : Path.GetFullPath(adapter), adapter is null ? null : FolderHashes(adapter, "adapter_config.json", hashes));
    }

    /// <summary>The training set and, when given, the validation set.</summary>
    public static IReadOnlyList<DataFingerprint> DataSets(IDataView training, IDataView? validation, IReadOnlyList<string> columns) =>
        validation is null ? [Data("training", training, columns)] : [Data("training", training, columns), Data("validation", validation, columns)];

    private static SortedDictionary<string, string> FolderHashes(string? folder, string configFile, FileHashCache cache)
    {
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (folder is null || !Directory.Exists(folder)) return hashes;
        var files = WeightPatterns.SelectMany(p => Directory.EnumerateFiles(folder, p)).Prepend(Path.Combine(folder, configFile)).Where(File.Exists).Distinct();
        foreach (var file in files) hashes[Path.GetFileName(file)] = cache.Sha256(file);
        return hashes;
    }

    public static string FileSha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Hashes the listed columns of <paramref name="data"/> (String, key, Boolean and numeric scalars; other types by their
    /// text form).</summary>
    public static DataFingerprint Data(string role, IDataView data, IReadOnlyList<string> columns)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var schemaColumns = columns.Select(c => data.Schema.GetColumnOrNull(c)).Where(c => c is not null).Select(c => c!.Value).ToList();
        long rows = 0;
        using (var cursor = data.GetRowCursor(schemaColumns))
        {
            var readers = schemaColumns.Select(c => Reader(cursor, c)).ToList();
            Span<byte> length = stackalloc byte[4];
            while (cursor.MoveNext())
            {
                rows++;
                foreach (var read in readers)
                {
                    var bytes = Encoding.UTF8.GetBytes(read());
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
                    sha.AppendData(length);
                    sha.AppendData(bytes);
                }
            }
        }
        return new DataFingerprint(role, rows, [.. schemaColumns.Select(c => c.Name)], Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    private static Func<string> Reader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var type = column.Type;
        if (type is TextDataViewType)
        {
            var get = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> v = default;
            return () => { get(ref v); return v.ToString(); };
        }
        return type.RawType switch
        {
            var t when t == typeof(uint) => Typed<uint>(cursor, column),
            var t when t == typeof(bool) => Typed<bool>(cursor, column),
            var t when t == typeof(float) => Typed<float>(cursor, column),
            var t when t == typeof(double) => Typed<double>(cursor, column),
            var t when t == typeof(int) => Typed<int>(cursor, column),
            var t when t == typeof(long) => Typed<long>(cursor, column),
            _ => () => type.ToString() ?? "",
        };
    }

    private static Func<string> Typed<T>(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var get = cursor.GetGetter<T>(column);
        T v = default!;
        return () => { get(ref v); return Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? ""; };
    }
}
