namespace FineTune.MLNet.Formats;

/// <summary>
/// Reads a file of outside data whole, after checking its size against a cap, so a hostile or mistaken file (a 40 GB
/// "config.json") is refused with a message instead of exhausting memory.
/// </summary>
public static class BoundedFile
{
    /// <summary>The bytes of <paramref name="path"/>; <paramref name="what"/> names the kind of file in the error.</summary>
    /// <exception cref="InvalidDataException">The file is larger than <paramref name="maxBytes"/>.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        using var stream = File.OpenRead(path);
        long length = stream.Length;
        if (length > maxBytes)
        {
            throw new InvalidDataException(
                $"{what} '{path}' is {length:N0} bytes, more than the {maxBytes:N0}-byte limit for such files (corrupt, or not the file it is named as).");
        }
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
