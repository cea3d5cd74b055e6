using System.Text.Json;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training.Resume;

/// <summary>Tensors and state of one resume checkpoint (<c>checkpoint-N/</c>, not HF weights: see <c>HfCheckpoint</c>).</summary>
public sealed record ResumeCheckpoint(
    string Path,
    TrainerState State,
    Dictionary<string, Tensor> Model,
    Dictionary<string, Tensor> Optimizer,
    Dictionary<string, Tensor>? BestModel,
    Tensor RngState) : IDisposable
{
    public void Dispose()
    {
        foreach (var t in Model.Values.Concat(Optimizer.Values).Concat((IEnumerable<Tensor>?)BestModel?.Values ?? [])) t.Dispose();
        RngState.Dispose();
    }
}

/// <summary>
/// Checkpoint folders <c>checkpoint-{step}</c> under a directory, crash-safe: each is written into a temporary folder
/// (every file flushed to disk, a <see cref="ResumeCheckpointManifest"/> with sizes and SHA-256 last), the folder is flushed,
/// renamed into place and the parent flushed. A folder without a manifest, or a temporary one, is never loaded;
/// resuming verifies the newest and falls back to the previous one (with a warning) when a file is truncated or altered.
/// Contents: <c>model.safetensors</c> (trainable weights), <c>optimizer.safetensors</c>, <c>best_model.safetensors</c>
/// (when early stopping tracks one), <c>rng.safetensors</c> (torch CPU generator state), <c>trainer_state.json</c>,
/// <c>manifest.json</c>.
/// </summary>
public static class ResumeCheckpointStore
{
    /// <summary>Name prefix of complete checkpoint folders.</summary>
    public const string Prefix = "checkpoint-";
    /// <summary>Start of the log line that says a run resumes: <c>resuming from checkpoint-N (step N of M) in DIR.</c></summary>
    public const string ResumeNotice = "resuming from";
    internal const string TempPrefix = ".tmp-" + Prefix;
    internal const string TrashPrefix = ".trash-" + Prefix;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>
    /// Fault injection for the kill tests: called inside <see cref="Save"/> with the temporary folder and the file just
    /// written to it (the checkpoint is not in place yet). The CLI sets it only under FINETUNE_HOLD_IN_CHECKPOINT_WRITE.
    /// </summary>
    internal static Action<string, string>? FileWritten { get; set; }

    /// <summary>
    /// Writes a checkpoint atomically and keeps the newest <paramref name="keep"/>. An I/O failure (a full disk
    /// included) removes the partial folder, leaves the previous checkpoints as they were and throws
    /// <see cref="ResumeCheckpointWriteException"/> naming the folder.
    /// </summary>
    public static string Save(string directory, TrainerState state, IReadOnlyDictionary<string, Tensor> model,
        IReadOnlyDictionary<string, Tensor> optimizer, IReadOnlyDictionary<string, Tensor>? bestModel, Tensor rngState, int keep)
    {
        var name = $"{Prefix}{state.GlobalStep}";
        var final = System.IO.Path.Combine(directory, name);
        var temp = System.IO.Path.Combine(directory, $"{TempPrefix}{state.GlobalStep}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(directory);
            Directory.CreateDirectory(temp);
            SafeTensorsFile.Save(System.IO.Path.Combine(temp, "model.safetensors"), model);
            FileWritten?.Invoke(temp, "model.safetensors");
            SafeTensorsFile.Save(System.IO.Path.Combine(temp, "optimizer.safetensors"), optimizer);
            FileWritten?.Invoke(temp, "optimizer.safetensors");
            if (bestModel is not null) SafeTensorsFile.Save(System.IO.Path.Combine(temp, "best_model.safetensors"), bestModel);
            SafeTensorsFile.Save(System.IO.Path.Combine(temp, "rng.safetensors"), new Dictionary<string, Tensor> { ["cpu"] = rngState });
            FileWritten?.Invoke(temp, "rng.safetensors");
            AtomicFile.WriteAllText(System.IO.Path.Combine(temp, "trainer_state.json"), JsonSerializer.Serialize(state, Json));
            FileWritten?.Invoke(temp, "trainer_state.json");
            ResumeCheckpointManifest.Write(temp, state.GlobalStep);
            Formats.DurableDirectory.Flush(temp);
            FileWritten?.Invoke(temp, ResumeCheckpointManifest.FileName);
            MoveIntoPlace(temp, final, directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            var previous = Directory.Exists(directory) ? List(directory).LastOrDefault() : null;
            var reason = e is IOException io && ResumeCheckpointWriteException.IsDiskFull(io) ? "no space left on device" : e.Message;
            throw new ResumeCheckpointWriteException(
                $"Could not write checkpoint {name} under '{directory}': {reason}. " +
                (previous is null ? "No earlier checkpoint exists. " : $"The previous checkpoint {System.IO.Path.GetFileName(previous)} is intact. ") +
                "Free space (or choose another CheckpointDirectory) and run again to resume.",
                directory, previous, e);
        }
        ResumeCheckpointRetention.Prune(directory, keep, state.GlobalStep);
        return final;
    }

    /// <summary>
    /// The newest checkpoint under <paramref name="directory"/> whose files match its manifest, or null when there is
    /// none. A damaged newer one is skipped with a warning naming it; when every one is damaged this throws.
    /// </summary>
    public static ResumeCheckpoint? LoadLatest(string directory, Action<string>? warn = null)
    {
        if (!Directory.Exists(directory)) return null;
        var candidates = List(directory).Reverse().ToList();
        var problems = new List<string>();
        foreach (var path in candidates)
        {
            try
            {
                ResumeCheckpointManifest.Verify(path);
                return Load(path);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or SafeTensorsFormatException or JsonException)
            {
                problems.Add($"{System.IO.Path.GetFileName(path)}: {e.Message}");
                var fallback = candidates.SkipWhile(c => c != path).Skip(1).FirstOrDefault();
                warn?.Invoke($"Checkpoint {path} is damaged ({e.Message}); " +
                             (fallback is null ? "no older checkpoint is left." : $"falling back to {System.IO.Path.GetFileName(fallback)}."));
            }
        }
        if (problems.Count > 0)
            throw new InvalidDataException($"Every checkpoint under '{directory}' is damaged ({string.Join("; ", problems)}). Delete them (or use another CheckpointDirectory) to start over.");
        return null;
    }

    /// <summary>Loads one checkpoint folder (without checking its manifest); a missing or malformed file is an error naming it.</summary>
    public static ResumeCheckpoint Load(string path)
    {
        var statePath = System.IO.Path.Combine(path, "trainer_state.json");
        TrainerState state;
        try
        {
            state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(statePath))
                    ?? throw new InvalidDataException($"{statePath} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{statePath} is not a valid trainer state: {e.Message}", e);
        }
        var best = System.IO.Path.Combine(path, "best_model.safetensors");
        var rng = SafeTensorsFile.Load(System.IO.Path.Combine(path, "rng.safetensors"));
        if (!rng.TryGetValue("cpu", out var rngState)) throw new InvalidDataException($"{path}/rng.safetensors has no 'cpu' generator state.");
        return new ResumeCheckpoint(path, state,
            SafeTensorsFile.Load(System.IO.Path.Combine(path, "model.safetensors")),
            SafeTensorsFile.Load(System.IO.Path.Combine(path, "optimizer.safetensors")),
            File.Exists(best) ? SafeTensorsFile.Load(best) : null,
            rngState);
    }

    /// <summary>Complete checkpoint folders (named <c>checkpoint-{step}</c>, with a manifest), oldest first.</summary>
    public static IReadOnlyList<string> List(string directory) =>
        Directory.GetDirectories(directory, Prefix + "*")
            .Where(d => StepOf(d) is not null && File.Exists(System.IO.Path.Combine(d, ResumeCheckpointManifest.FileName)))
            .OrderBy(d => StepOf(d))
            .ToList();

    /// <summary>The step in a <c>checkpoint-{step}</c> folder name; null for any other name.</summary>
    public static long? StepOf(string folder)
    {
        var name = System.IO.Path.GetFileName(folder.TrimEnd(System.IO.Path.DirectorySeparatorChar));
        return name.StartsWith(Prefix, StringComparison.Ordinal) && name.Length > Prefix.Length && name[Prefix.Length..].All(char.IsAsciiDigit)
               && long.TryParse(name[Prefix.Length..], out var step) ? step : null;
    }

    /// <summary>Renames the finished temporary folder to its final name (a same-step folder is moved aside first) and flushes the parent.</summary>
    private static void MoveIntoPlace(string temp, string final, string directory)
    {
        string? trash = null;
        if (Directory.Exists(final))
        {
            trash = System.IO.Path.Combine(directory, $"{TrashPrefix}{System.IO.Path.GetFileName(final)}-{Guid.NewGuid():N}");
            Directory.Move(final, trash);
        }
        Directory.Move(temp, final);
        Formats.DurableDirectory.Flush(directory);
        if (trash is not null) TryDelete(trash);
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temporary folder is never loaded and the next write removes it.
        }
    }
}
