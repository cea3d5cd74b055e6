using System.Diagnostics;

namespace FineTune.MLNet.Tests.TestSupport;

/// <summary>
/// One temp folder per test process (<c>$TMPDIR/ftmlnet-tests-PID-GUID</c>) under which every test folder is made, so
/// folders are deleted even when a test does not dispose them: the whole root goes at the end of the run (<see cref="CleanupTestFramework"/>, or at process exit), and roots
/// left by killed runs (their process gone, untouched for 3 hours) are swept when the next run starts.
/// </summary>
internal static class TestTempRoot
{
    private const string Prefix = "ftmlnet-tests-";
    private static readonly Lazy<string> root = new(Create);

    /// <summary>This process's root folder (created on first use).</summary>
    public static string Path => root.Value;

    /// <summary>A new, empty, uniquely named folder under the root; it lives until the test process exits.</summary>
    public static string NewFolder(string prefix)
    {
        var dir = System.IO.Path.Combine(Path, prefix + "-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string Create()
    {
        SweepAbandonedRoots();
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(dir);
        return dir;
    }

    /// <summary>Deletes the root with everything under it (end of the test run; see <see cref="CleanupTestFramework"/>).</summary>
    public static void DeleteIfCreated()
    {
        if (root.IsValueCreated) TryDelete(root.Value);
    }

    /// <summary>Deletes roots whose process no longer runs (a run that was killed before its exit handler ran).</summary>
    private static void SweepAbandonedRoots()
    {
        foreach (var dir in Directory.EnumerateDirectories(System.IO.Path.GetTempPath(), Prefix + "*"))
        {
            var name = System.IO.Path.GetFileName(dir);
            var dash = name.IndexOf('-', Prefix.Length);
            if (dash < 0 || !int.TryParse(name.AsSpan(Prefix.Length, dash - Prefix.Length), out var pid)) continue;
            if (pid == Environment.ProcessId || IsRunning(pid)) continue;
            if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(dir) < TimeSpan.FromHours(3)) continue;   // pid of another namespace?
            TryDelete(dir);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;   // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // another process of the same uid may hold a file open; it is swept by a later run
        }
        catch (UnauthorizedAccessException)
        {
            // owned by another user: not ours to delete
        }
    }
}
