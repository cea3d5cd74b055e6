using FineTune.MLNet.Formats;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Resume;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Training.Resume;

/// <summary>Checkpoint folders: written atomically, half-written ones never loaded, the newest N kept, damage detected and skipped, a full disk survived.</summary>
public sealed class ResumeCheckpointStoreCrashSafetyTests
{
    /// <summary>Writes the checkpoint of <paramref name="step"/>: weights filled with the step number, <paramref name="floats"/> each.</summary>
    private static string Save(string dir, long step, int keep = 10, int floats = 64)
    {
        using var scope = NewDisposeScope();
        var state = new TrainerState { GlobalStep = step, Seed = 1, TotalSteps = 100, EpochLossSum = step * 0.1, EpochLossCount = (int)step };
        var model = new Dictionary<string, Tensor> { ["w"] = full(floats, (float)step) };
        var optimizer = new Dictionary<string, Tensor> { ["exp_avg.w"] = full(floats, step * 2f), ["step"] = tensor(new[] { step }) };
        return ResumeCheckpointStore.Save(dir, state, model, optimizer, null, random.get_rng_state(), keep);
    }

    private static long? LatestStep(string dir, List<string>? warnings = null)
    {
        using var latest = ResumeCheckpointStore.LoadLatest(dir, warnings is null ? null : warnings.Add);
        if (latest is null) return null;
        Assert.Equal((float)latest.State.GlobalStep, latest.Model["w"][0].item<float>());   // the files belong to the step
        return latest.State.GlobalStep;
    }

    [Fact]
    public void FlushingAFolderWorksAndAMissingOneIsNamed()
    {
        using var dir = new TempDir();
        DurableDirectory.Flush(dir.Path);
        var missing = Path.Combine(dir.Path, "nope");
        if (OperatingSystem.IsWindows()) return;
        var e = Assert.Throws<IOException>(() => DurableDirectory.Flush(missing));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void ACheckpointHasAManifestWithSizesAndHashes()
    {
        using var dir = new TempDir();
        var path = Save(dir.Path, 7);
        Assert.Equal("checkpoint-7", Path.GetFileName(path));
        var manifest = ResumeCheckpointManifest.Verify(path);
        Assert.Equal(7, manifest.GlobalStep);
        Assert.Equal(["model.safetensors", "optimizer.safetensors", "rng.safetensors", "trainer_state.json"], manifest.Files.Select(f => f.Name));
        Assert.All(manifest.Files, f => Assert.Equal(new FileInfo(Path.Combine(path, f.Name)).Length, f.Bytes));
        Assert.All(manifest.Files, f => Assert.Equal(64, f.Sha256.Length));
        Assert.Equal([dir.Path], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetDirectoryName));   // nothing but the checkpoint
    }

    [Fact]
    public void HalfWrittenCheckpointsAreNeverLoaded()
    {
        using var dir = new TempDir();
        var two = Save(dir.Path, 2);
        // A write killed before its rename: a complete temporary folder. One killed before its manifest: a final name without one.
        CopyFolder(two, Path.Combine(dir.Path, ".tmp-checkpoint-3-0123"));
        var four = Path.Combine(dir.Path, "checkpoint-4");
        CopyFolder(two, four);
        File.Delete(Path.Combine(four, ResumeCheckpointManifest.FileName));
        Assert.Equal(2, LatestStep(dir.Path));
        Assert.Equal([two], ResumeCheckpointStore.List(dir.Path));

        Save(dir.Path, 3);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, ".tmp-checkpoint-3-0123")));   // the next write clears the leftover
        Assert.True(Directory.Exists(four));                                                 // not ours to delete, never loaded
        Assert.Equal(3, LatestStep(dir.Path));
    }

    [Fact]
    public void KeepsTheNewestCheckpoints()
    {
        using var dir = new TempDir();
        for (var step = 1; step <= 6; step++) Save(dir.Path, step, keep: 3);
        Assert.Equal(["checkpoint-4", "checkpoint-5", "checkpoint-6"], ResumeCheckpointStore.List(dir.Path).Select(Path.GetFileName));
        Assert.Equal(3, Directory.GetFileSystemEntries(dir.Path).Length);   // no temporary or trash folder left
    }

    public static TheoryData<string, string> Damage => new()
    {
        { "truncated", "model.safetensors" },
        { "bit flipped", "optimizer.safetensors" },
        { "deleted", "rng.safetensors" },
        { "bit flipped", "trainer_state.json" },
        { "garbage", ResumeCheckpointManifest.FileName },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public void ADamagedNewestCheckpointFallsBackToThePreviousWithAWarning(string damage, string file)
    {
        using var dir = new TempDir();
        Save(dir.Path, 1);
        var two = Save(dir.Path, 2);
        Spoil(Path.Combine(two, file), damage);
        var warnings = new List<string>();
        Assert.Equal(1, LatestStep(dir.Path, warnings));
        var warning = Assert.Single(warnings);
        Assert.Contains(two, warning);
        Assert.Contains("falling back to checkpoint-1", warning);

        // Training goes on from step 1: the next checkpoint of step 2 replaces the damaged one.
        Save(dir.Path, 2);
        warnings.Clear();
        Assert.Equal(2, LatestStep(dir.Path, warnings));
        Assert.Empty(warnings);
    }

    [Fact]
    public void CheckpointsNewerThanTheOneWrittenAreDroppedAsAnotherHistory()
    {
        using var dir = new TempDir();
        for (var step = 1; step <= 3; step++) Save(dir.Path, step);
        Spoil(Path.Combine(dir.Path, "checkpoint-3", "model.safetensors"), "truncated");
        Spoil(Path.Combine(dir.Path, "checkpoint-2", "model.safetensors"), "truncated");
        var warnings = new List<string>();
        Assert.Equal(1, LatestStep(dir.Path, warnings));
        Assert.Equal(2, warnings.Count);
        Save(dir.Path, 2);
        Assert.Equal(["checkpoint-1", "checkpoint-2"], ResumeCheckpointStore.List(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void EveryCheckpointDamagedIsAnErrorNamingThem()
    {
        using var dir = new TempDir();
        var one = Save(dir.Path, 1);
        Spoil(Path.Combine(one, "model.safetensors"), "truncated");
        var e = Assert.Throws<InvalidDataException>(() => ResumeCheckpointStore.LoadLatest(dir.Path));
        Assert.Contains("checkpoint-1", e.Message);
        Assert.Contains("bytes", e.Message);
    }

    [TmpfsFact]
    public void AFullDiskStopsWithAClearErrorAndKeepsThePreviousCheckpoint()
    {
        using var dir = new TempDir();
        using (SmallTmpfs.Mount(dir.Path, "2m"))
        {
            var first = Save(dir.Path, 1, floats: 150_000);           // ~1.2 MB: fits once in 2 MB, not twice
            var e = Assert.Throws<ResumeCheckpointWriteException>(() => Save(dir.Path, 2, floats: 150_000));
            Assert.Contains("no space left", e.Message);
            Assert.Contains(dir.Path, e.Message);
            Assert.Contains("checkpoint-1 is intact", e.Message);
            Assert.Equal(first, e.LastCheckpoint);
            Assert.IsAssignableFrom<IOException>(e.InnerException);
            Assert.Equal([first], Directory.GetFileSystemEntries(dir.Path));   // the partial folder was removed
            ResumeCheckpointManifest.Verify(first);
            Assert.Equal(1, LatestStep(dir.Path));
        }
    }

    private static void Spoil(string file, string damage)
    {
        switch (damage)
        {
            case "truncated":
                using (var s = new FileStream(file, FileMode.Open)) s.SetLength(s.Length - 1);
                break;
            case "bit flipped":
                var bytes = File.ReadAllBytes(file);
                bytes[bytes.Length / 2] ^= 0x10;
                File.WriteAllBytes(file, bytes);
                break;
            case "deleted":
                File.Delete(file);
                break;
            default:
                File.WriteAllText(file, "{ not json");
                break;
        }
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
