using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.Training.Resume;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Resume;
using Xunit;

namespace FineTune.MLNet.Tests.Cli;

/// <summary>The checkpoint options of classify, sft and dpo: bad values refused before training (exit 2), a full disk stops training clearly (exit 3).</summary>
public sealed class CheckpointCliTests
{
    private static string[] Command(string name, string dir, params string[] extra)
    {
        // The checkpoint options are checked before any model is loaded, so small placeholder inputs do (two labels, so
        // that classify's preflight passes them on to the command's own option checks).
        var train = Path.Combine(dir, "train.csv");
        File.WriteAllText(train, "a,b,c\nx,y,z\nq,w,e\n");
        string[] common = ["--train", train, "--output", Path.Combine(dir, "out"), .. extra];
        return name switch
        {
            "classify" => ["classify", "--test", train, "--text-column", "a", "--label-column", "b", "--model", TinyClassifierData.ModelFolder(), .. common],
            "sft" => ["sft", "--model", dir, "--prompt-column", "a", "--response-column", "b", .. common],
            _ => ["dpo", "--model", dir, "--prompt-column", "a", "--chosen-column", "b", "--rejected-column", "c", .. common],
        };
    }

    [Theory]
    [InlineData("classify", "--checkpoint-every", "0", "--checkpoint-every: must be >= 1 (got 0)")]
    [InlineData("sft", "--keep-checkpoints", "0", "--keep-checkpoints: must be >= 1 (got 0)")]
    [InlineData("dpo", "--checkpoint-every", "5", "--checkpoint-every needs --checkpoint-dir")]
    [InlineData("sft", "--checkpoint-dir", "FILE/sub", "is a file, not a folder")]
    public void BadCheckpointOptionsAreNamedBeforeTraining(string command, string option, string value, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("FILE"), "");
        string[] extra = option == "--checkpoint-dir" ? [option, dir.File(value)] : [option, value, .. option == "--keep-checkpoints" ? ["--checkpoint-dir", dir.File("ck")] : Array.Empty<string>()];
        var (code, stdout, stderr) = CliRunner.Run(Command(command, dir.Path, extra));
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr);   // no stack trace
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [TmpfsFact]
    public void AFullCheckpointDiskStopsClassifyWithAClearMessageAndKeepsThePreviousCheckpoint()
    {
        using var dir = new TempDir();
        var train = dir.File("train.csv");
        File.WriteAllLines(train, ["review,sentiment", .. TinyClassifierData.Rows(24, 41).Select(r => $"\"{r.Text}\",{r.Label}")]);
        var checkpoints = dir.File("full");
        Directory.CreateDirectory(checkpoints);
        using (SmallTmpfs.Mount(checkpoints, "2m"))   // a checkpoint of the tiny BERT with its AdamW moments is ~1.4 MB: one fits, two do not
        {
            var (code, stdout, stderr) = CliRunner.Run("classify", "--train", train, "--test", train, "--text-column", "review", "--label-column", "sentiment",
                "--model", TinyClassifierData.ModelFolder(), "--epochs", "1", "--batch-size", "4", "--max-length", "16",
                "--output", dir.File("out"), "--checkpoint-dir", checkpoints, "--checkpoint-every", "1");
            Assert.True(code == 3, $"exit {code}\n{stdout}\n{stderr}");
            Assert.Contains($"error: Could not write checkpoint checkpoint-2 under '{checkpoints}': no space left on device", stderr);
            Assert.Contains("The previous checkpoint checkpoint-1 is intact", stderr);
            Assert.DoesNotContain("   at ", stderr);
            var left = Assert.Single(Directory.GetFileSystemEntries(checkpoints));
            Assert.Equal(Path.Combine(checkpoints, "checkpoint-1"), left);
            Assert.Equal(1, ResumeCheckpointManifest.Verify(left).GlobalStep);
            using var resumable = ResumeCheckpointStore.LoadLatest(checkpoints);
            Assert.Equal(1, resumable!.State.GlobalStep);
        }
    }
}
