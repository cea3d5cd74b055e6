using System.ComponentModel;
using System.Runtime.InteropServices;

namespace FineTune.MLNet.Formats;

/// <summary>
/// Makes directory entries durable: after a file is created or renamed, the new name survives a power loss only once
/// its parent directory has been flushed. On Linux and macOS this is <c>open(dir, O_RDONLY)</c> +
/// <c>fsync</c> through libc (.NET refuses to open a directory as a file); Windows has no such call (NTFS journals
/// renames), so there it does nothing.
/// </summary>
public static partial class DurableDirectory
{
    /// <summary>Flushes <paramref name="directory"/>'s entries to disk; an error names the folder and the errno.</summary>
    public static void Flush(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(directory, ReadOnly);
        if (fd < 0) throw Error("open", directory);
        try
        {
            // EINVAL: the file system does not support fsync on directories (some FUSE / network mounts); nothing to flush.
            if (Fsync(fd) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != EInval)
                throw Error("fsync", directory, errno);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private const int EInval = 22;
    private const int ReadOnly = 0;   // O_RDONLY; O_DIRECTORY differs between architectures and adds nothing here

    private static IOException Error(string call, string directory, int? errno = null)
    {
        var code = errno ?? Marshal.GetLastPInvokeError();
        return new IOException($"{call}('{directory}') failed: {new Win32Exception(code).Message} (errno {code}).", code);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
