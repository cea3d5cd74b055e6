using System.Diagnostics;
using Xunit;

namespace FineTune.MLNet.Tests.Training.Resume;

/// <summary>
/// A fact that needs to mount a small tmpfs (to fill a disk on purpose): runs as root on Linux where <c>mount -t tmpfs</c>
/// is permitted, and is skipped with the reason elsewhere (not Linux, not root, or a container without CAP_SYS_ADMIN).
/// </summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> SkipReason = new(Probe);

    public TmpfsFactAttribute()
    {
        if (SkipReason.Value is { } reason) Skip = reason;
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "Disk-full test skipped: needs Linux to mount a tmpfs.";
        using var dir = new Checkpoints.TempDir();
        try
        {
            using var mount = SmallTmpfs.Mount(dir.Path, "64k");
            return null;
        }
        catch (InvalidOperationException e)
        {
            return $"Disk-full test skipped: mounting a tmpfs is not permitted here ({e.Message}).";
        }
    }
}

/// <summary>A tmpfs of a fixed size mounted on a folder; unmounted on dispose.</summary>
internal sealed class SmallTmpfs : IDisposable
{
    private readonly string path;

    private SmallTmpfs(string path) => this.path = path;

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (e.g. <c>2m</c>) on <paramref name="path"/>; throws with mount's message when refused.</summary>
    public static SmallTmpfs Mount(string path, string size)
    {
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
        if (code != 0) throw new InvalidOperationException($"mount exited {code}: {output.Trim()}");
        return new SmallTmpfs(path);
    }

    public void Dispose() => Run("umount", path);

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var output = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"cannot run {file}: {e.Message}");
        }
    }
}
