using FineTune.MLNet.Training.Resume;
using System.Text.Json;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.Sft;
using FineTune.MLNet.Training;
using Xunit;
using Xunit.Abstractions;

namespace FineTune.MLNet.Tests.Cli;

/// <summary>
/// Crash safety proven by killing: a real <c>finetune</c> process is SIGKILLed at seeded random points (inside a chosen
/// checkpoint write, after a chosen file of it, or inside a chosen optimizer step), several times per run, and
/// resumed each time by running the same command again; the final weights (every tensor, bitwise) and metrics must equal
/// those of one uninterrupted run. Each kill is classified by what it left behind: a temporary checkpoint folder (killed
/// inside a checkpoint write), a trash folder (inside pruning), or neither (inside training steps).
/// </summary>
public sealed class KillAndResumeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    /// <summary>Where one run's kills landed.</summary>
    private sealed record KillTally(int DuringWrites, int DuringPruning, int DuringSteps, int Restarts, int CorruptionsSurvived)
    {
        public int Kills => DuringWrites + DuringPruning + DuringSteps;
    }

    [Fact]
    public async Task ClassifyKilledAndResumedEqualsOneRunBitForBit()
    {
        using var dir = new TempDir();
        var model = TinyClassifierData.ModelFolder();
        var train = WriteCsv(dir.File("train.csv"), TinyClassifierData.Rows(60, 31));
        var valid = WriteCsv(dir.File("valid.csv"), TinyClassifierData.Rows(15, 32));
        var test = WriteCsv(dir.File("test.csv"), TinyClassifierData.Rows(15, 33));
        string[] Args(string output, params string[] extra) =>
        [
            "classify", "--train", train, "--valid", valid, "--test", test, "--text-column", "review", "--label-column", "sentiment",
            "--model", model, "--epochs", "2", "--lr", "5e-3", "--batch-size", "4", "--max-length", "16", "--seed", "3",
            "--early-stopping", "3", "--output", output, .. extra,
        ];
        var checkpoints = dir.File("checkpoints");
        var reference = Task.Run(() => RunToEnd(Args(dir.File("reference"))));
        var tally = KillAndResume(Args(dir.File("killed"), "--checkpoint-dir", checkpoints, "--checkpoint-every", "2"), checkpoints, checkpointEvery: 2,
            seed: 6, kills: 6, totalSteps: 30, corruptBeforeSegment: 3);
        await reference;

        const string weights = "model/segment-1-text-classifier/model.safetensors";
        var compared = AssertSameTensors(Path.Combine(dir.Path, "reference", weights), Path.Combine(dir.Path, "killed", weights));
        var metrics = AssertSameMetrics(Path.Combine(dir.Path, "reference", "metrics.json"), Path.Combine(dir.Path, "killed", "metrics.json"),
            "train_seconds", "train_tokens_per_second", "model_dir", "onnx_model");
        Report("classify (full fine-tuning, early stopping tracking the best epoch)", tally, compared, metrics);
        AssertKillsLandedEverywhere(tally);
        Assert.Equal(1, tally.CorruptionsSurvived);
    }

    [Fact]
    public async Task SftLoraKilledAndResumedEqualsOneRunBitForBit()
    {
        using var dir = new TempDir();
        var model = TinyLlamaFolder.Create();
        var train = dir.File("facts.csv");
        File.WriteAllLines(train, ["question,answer", .. Enumerable.Range(0, 8).Select(i => $"What is {i} plus {i}?,It is {2 * i}.")]);
        string[] Args(string output, params string[] extra) =>
        [
            "sft", "--model", model, "--train", train, "--valid", train, "--prompt-column", "question", "--response-column", "answer",
            "--lora-rank", "4", "--lora-alpha", "8", "--lora-dropout", "0.1", "--targets", "q_proj,v_proj", "--epochs", "4", "--lr", "1e-2",
            "--batch-size", "2", "--max-length", "32", "--seed", "7", "--output", output, .. extra,
        ];
        var checkpoints = dir.File("checkpoints");
        var reference = Task.Run(() => RunToEnd(Args(dir.File("reference"))));
        var tally = KillAndResume(Args(dir.File("killed"), "--checkpoint-dir", checkpoints, "--checkpoint-every", "2"), checkpoints, checkpointEvery: 2,
            seed: 11, kills: 5, totalSteps: 16);
        await reference;

        var compared = AssertSameTensors(Path.Combine(dir.Path, "reference", "adapter", "adapter_model.safetensors"), Path.Combine(dir.Path, "killed", "adapter", "adapter_model.safetensors"));
        var metrics = AssertSameMetrics(Path.Combine(dir.Path, "reference", "metrics.json"), Path.Combine(dir.Path, "killed", "metrics.json"),
            "train_seconds", "train_tokens_per_second", "adapter_dir");
        Report("sft (LoRA r=4 on q_proj, v_proj, dropout 0.1)", tally, compared, metrics);
        AssertKillsLandedEverywhere(tally);
    }

    [Fact]
    public async Task DpoKilledAndResumedEqualsOneRunBitForBitWithTheWholeMetricHistory()
    {
        using var dir = new TempDir();
        var model = TinyLlamaFolder.Create();
        var train = dir.File("prefs.csv");
        File.WriteAllLines(train, ["question,good,bad", .. Enumerable.Range(0, 8).Select(i => $"What is {i} plus {i}?,It is {2 * i}.,It is {2 * i + 1}.")]);
        string[] Args(string output, params string[] extra) =>
        [
            "dpo", "--model", model, "--train", train, "--valid", train, "--prompt-column", "question", "--chosen-column", "good",
            "--rejected-column", "bad", "--lora-rank", "4", "--lora-alpha", "8", "--lora-dropout", "0.1", "--targets", "q_proj,v_proj",
            "--epochs", "4", "--lr", "1e-2", "--batch-size", "2", "--max-length", "32", "--seed", "9", "--output", output, .. extra,
        ];
        var checkpoints = dir.File("checkpoints");
        var reference = Task.Run(() => RunToEnd(Args(dir.File("reference"))));
        var tally = KillAndResume(Args(dir.File("killed"), "--checkpoint-dir", checkpoints, "--checkpoint-every", "2"), checkpoints, checkpointEvery: 2,
            seed: 4, kills: 5, totalSteps: 16);
        await reference;

        var compared = AssertSameTensors(Path.Combine(dir.Path, "reference", "adapter", "adapter_model.safetensors"), Path.Combine(dir.Path, "killed", "adapter", "adapter_model.safetensors"));
        var metrics = AssertSameMetrics(Path.Combine(dir.Path, "reference", "metrics.json"), Path.Combine(dir.Path, "killed", "metrics.json"),
            "train_seconds", "train_tokens_per_second", "adapter_dir");
        // The per-step TRL metrics of every step, those before the last resume included (they travel in the checkpoints).
        using var killed = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "killed", "metrics.json")));
        var history = killed.RootElement.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (long)i), history.Select(h => h.GetProperty("step").GetInt64()));
        foreach (var name in new[] { "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected" })
            Assert.All(history, h => Assert.True(h.TryGetProperty(name, out _), $"history entry lacks {name}: {h}"));
        Assert.Equal(4, killed.RootElement.GetProperty("validation_history").GetArrayLength());
        Report($"dpo (LoRA r=4 on q_proj, v_proj, dropout 0.1; {history.Count} steps of TRL metrics in the history)", tally, compared, metrics);
        AssertKillsLandedEverywhere(tally);
    }

    /// <summary>Files after which a checkpoint write can be held (and killed): every stage before the rename.</summary>
    private static readonly string[] WriteStages = ["model.safetensors", "optimizer.safetensors", "rng.safetensors", "trainer_state.json", "manifest.json"];

    /// <summary>Extra segments, beyond the planned kills, that retry a kill category which has not landed yet.</summary>
    private const int MaxTopUpKills = 3;

    private enum KillAim { None, Write, Step }

    /// <summary>
    /// Runs the command, killing it <paramref name="kills"/> times and re-running it after each kill, until it finishes.
    /// Each killed segment is told where to hold (see the CLI's <c>FaultInjection</c>) and is SIGKILLed when it says it
    /// holds, so every kill lands where it was aimed however loaded the machine is. Even segments (for an odd seed: odd
    /// ones) hold in their 2nd or 3rd checkpoint write after a seeded file of it; the others inside one of the 3 optimizer
    /// steps after their first <paramref name="checkpointEvery"/> (after the backward pass). Each segment thus completes a
    /// checkpoint first, and every re-run must resume. A kill is counted by what it left behind that was not there before
    /// (a new temporary checkpoint folder: inside a write; a new trash folder: inside pruning; neither: inside steps); if a
    /// category has none after the planned kills, up to
    /// <see cref="MaxTopUpKills"/> more are aimed at it. Before each re-run the expected resume point is the newest
    /// complete checkpoint; before segment <paramref name="corruptBeforeSegment"/> that one is truncated, and the run must
    /// warn and resume from the one before.
    /// </summary>
    private KillTally KillAndResume(string[] args, string checkpoints, int checkpointEvery, int seed, int kills, int totalSteps, int? corruptBeforeSegment = null)
    {
        Directory.CreateDirectory(checkpoints);
        var rng = new Random(seed);
        int duringWrites = 0, duringPruning = 0, duringSteps = 0, restarts = 0, corruptions = 0;
        for (var segment = 0; ; segment++)
        {
            Assert.True(segment <= kills + MaxTopUpKills + 1, $"the run did not finish after {segment} segments");
            var complete = ResumeCheckpointStore.List(checkpoints);
            string? damaged = null;
            if (segment == corruptBeforeSegment && complete.Count >= 2)
            {
                damaged = complete[^1];
                using (var s = new FileStream(Path.Combine(damaged, "model.safetensors"), FileMode.Open)) s.SetLength(s.Length - 1);
                complete = complete.Take(complete.Count - 1).ToList();
            }
            var expectedResume = complete.Count > 0 ? complete[^1] : null;

            var aim = segment < kills ? (segment % 2 == (seed & 1) ? KillAim.Write : KillAim.Step)
                : segment < kills + MaxTopUpKills && duringWrites == 0 ? KillAim.Write
                : segment < kills + MaxTopUpKills && duringSteps == 0 ? KillAim.Step
                : KillAim.None;
            int writeTarget = rng.Next(2, 4), stepTarget = checkpointEvery + rng.Next(1, 4);
            var stage = WriteStages[rng.Next(WriteStages.Length)];
            var environment = aim switch
            {
                KillAim.Write => new Dictionary<string, string> { [KillableCliProcess.WriteHoldVariable] = $"{writeTarget}:{stage}" },
                KillAim.Step => new Dictionary<string, string> { [KillableCliProcess.StepHoldVariable] = $"{stepTarget}" },
                _ => null,
            };
            var leftovers = Directory.GetDirectories(checkpoints, ".*").ToHashSet();   // of earlier kills; a run clears them when it writes
            using var process = KillableCliProcess.Start(args, onHold: p => p.Kill(), environment: environment);
            var (code, stdout, stderr) = process.WaitForExit(Limit);

            if (expectedResume is not null)
            {
                var step = ResumeCheckpointStore.StepOf(expectedResume);
                Assert.True(stderr.Contains($"resuming from checkpoint-{step} (step {step} of {totalSteps})", StringComparison.Ordinal),
                    $"segment {segment}: expected to resume from {Path.GetFileName(expectedResume)}:\n{stderr}");
                restarts++;
            }
            if (damaged is not null)
            {
                Assert.Contains($"warning: Checkpoint {damaged} is damaged", stderr);
                Assert.Contains($"falling back to {Path.GetFileName(expectedResume)}", stderr);
                corruptions++;
            }
            if (!process.WasKilled || code == 0)
            {
                Assert.True(code == 0, $"segment {segment} exited {code}:\n{stdout}\n{stderr}");
                Assert.Contains($"step {totalSteps}/{totalSteps}", stderr);
                Assert.True(ResumeCheckpointStore.List(checkpoints).Count <= 3);
                Assert.Empty(Directory.GetDirectories(checkpoints, ".*"));   // leftovers of killed writes were cleared
                return new KillTally(duringWrites, duringPruning, duringSteps, restarts, corruptions);
            }
            var left = Directory.GetDirectories(checkpoints, ".*").Where(d => !leftovers.Contains(d)).Select(Path.GetFileName).ToList();
            if (left.Any(d => d!.StartsWith(".tmp-checkpoint-", StringComparison.Ordinal))) duringWrites++;
            else if (left.Any(d => d!.StartsWith(".trash-checkpoint-", StringComparison.Ordinal))) duringPruning++;
            else duringSteps++;
        }
    }

    private static void RunToEnd(string[] args)
    {
        using var run = KillableCliProcess.Start(args);
        var (code, stdout, stderr) = run.WaitForExit(Limit);
        Assert.True(code == 0, $"uninterrupted run exited {code}:\n{stdout}\n{stderr}");
    }

    private static void AssertKillsLandedEverywhere(KillTally tally)
    {
        Assert.True(tally.DuringWrites >= 1, $"no kill landed inside a checkpoint write: {tally}");
        Assert.True(tally.DuringSteps >= 1, $"no kill landed inside training steps: {tally}");
        Assert.True(tally.Restarts == tally.Kills, $"every re-run after a kill must resume from a checkpoint: {tally}");
    }

    /// <summary>Every tensor of both safetensors files has the same name, dtype, shape and bytes; returns (tensors, elements) compared.</summary>
    private static (int Tensors, long Elements) AssertSameTensors(string expectedFile, string actualFile)
    {
        var expected = SafeTensorsFile.Load(expectedFile);
        var actual = SafeTensorsFile.Load(actualFile);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        long elements = 0;
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            Assert.Equal(e.dtype, a.dtype);
            Assert.Equal(e.shape, a.shape);
            Assert.True(e.bytes.SequenceEqual(a.bytes), $"tensor '{name}' differs from the uninterrupted run");
            elements += e.numel();
        }
        Assert.True(expected.Count > 0);
        foreach (var t in expected.Values.Concat(actual.Values)) t.Dispose();
        return (expected.Count, elements);
    }

    /// <summary>
    /// Every metric but the timing, path and process-memory ones (<c>peak_rss_bytes</c> is the process's own high-water
    /// mark) is textually identical (doubles are written round-trip); returns how many were compared.
    /// </summary>
    private static int AssertSameMetrics(string expectedFile, string actualFile, params string[] ignored)
    {
        ignored = [.. ignored, "peak_rss_bytes"];
        using var expected = JsonDocument.Parse(File.ReadAllText(expectedFile));
        using var actual = JsonDocument.Parse(File.ReadAllText(actualFile));
        var e = expected.RootElement.EnumerateObject().Where(p => !ignored.Contains(p.Name)).ToDictionary(p => p.Name, p => p.Value.GetRawText());
        var a = actual.RootElement.EnumerateObject().Where(p => !ignored.Contains(p.Name)).ToDictionary(p => p.Name, p => p.Value.GetRawText());
        Assert.Equal(e.Keys.Order(), a.Keys.Order());
        foreach (var (name, value) in e) Assert.True(value == a[name], $"metric '{name}': {a[name]} after kills, {value} in one run");
        Assert.True(e.Count >= 5, $"only {e.Count} metrics compared");
        return e.Count;
    }

    private void Report(string what, KillTally tally, (int Tensors, long Elements) compared, int metrics) =>
        output.WriteLine($"{what}: {tally.Kills} SIGKILLs ({tally.DuringWrites} inside checkpoint writes, {tally.DuringPruning} inside pruning, " +
                         $"{tally.DuringSteps} inside steps), {tally.Restarts} resumes, {tally.CorruptionsSurvived} damaged checkpoint(s) skipped; " +
                         $"bit-identical: {compared.Tensors} tensors ({compared.Elements} values), {metrics} metrics.");

    private static string WriteCsv(string path, IEnumerable<TinyClassifierData.Row> rows)
    {
        File.WriteAllLines(path, ["review,sentiment", .. rows.Select(r => $"\"{r.Text}\",{r.Label}")]);
        return path;
    }
}
