namespace FineTune.MLNet.Formats;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new content, never a torn file:
/// the content goes to a temporary file in the same folder, is flushed to disk, then renamed over the target, and the
/// folder is flushed so the rename itself survives a power loss.
/// </summary>
public static class AtomicFile
{
    /// <summary>Suffix of the temporary files; a crash can leave one behind, which is safe to delete.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// Writes <paramref name="path"/> atomically. <paramref name="write"/> receives a stream positioned at 0;
    /// if it throws, the temporary file is deleted and the target is left untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)
            ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                       bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            Formats.DurableDirectory.Flush(folder);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no BOM) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
            // Best effort: the original exception is the one that matters.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
