using System.Text.Json;
using FineTune.MLNet.Formats.SafeTensors;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training.Resume;

/// <summary>Tensors and state of one training checkpoint.</summary>
public sealed record TrainingCheckpoint(
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
/// Checkpoint folders <c>checkpoint-{step}</c> under a directory. Each is written into a temporary folder and renamed
/// into place, so a crash never leaves a half-written checkpoint under a final name; resuming picks the newest one.
/// Contents: <c>model.safetensors</c> (trainable weights), <c>optimizer.safetensors</c>, <c>best_model.safetensors</c>
/// (when early stopping tracks one), <c>rng.safetensors</c> (torch CPU generator state), <c>trainer_state.json</c>.
/// </summary>
public static class CheckpointStore
{
    private const string Prefix = "checkpoint-";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Writes a checkpoint atomically and deletes all but the newest <paramref name="keep"/>.</summary>
    public static string Save(string directory, TrainerState state, IReadOnlyDictionary<string, Tensor> model,
        IReadOnlyDictionary<string, Tensor> optimizer, IReadOnlyDictionary<string, Tensor>? bestModel, Tensor rngState, int keep)
    {
        Directory.CreateDirectory(directory);
        var final = System.IO.Path.Combine(directory, $"{Prefix}{state.GlobalStep:D8}");
        var temp = System.IO.Path.Combine(directory, $".tmp-{Prefix}{state.GlobalStep:D8}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        SafeTensorsFile.Save(System.IO.Path.Combine(temp, "model.safetensors"), model);
        SafeTensorsFile.Save(System.IO.Path.Combine(temp, "optimizer.safetensors"), optimizer);
        if (bestModel is not null) SafeTensorsFile.Save(System.IO.Path.Combine(temp, "best_model.safetensors"), bestModel);
        SafeTensorsFile.Save(System.IO.Path.Combine(temp, "rng.safetensors"), new Dictionary<string, Tensor> { ["cpu"] = rngState });
        File.WriteAllText(System.IO.Path.Combine(temp, "trainer_state.json"), JsonSerializer.Serialize(state, Json));
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        Prune(directory, keep);
        return final;
    }

    /// <summary>The newest complete checkpoint under <paramref name="directory"/>, or null when there is none.</summary>
    public static TrainingCheckpoint? LoadLatest(string directory)
    {
        if (!Directory.Exists(directory)) return null;
        var latest = List(directory).LastOrDefault();
        return latest is null ? null : Load(latest);
    }

    /// <summary>Loads one checkpoint folder; a missing or malformed file is an error naming it.</summary>
    public static TrainingCheckpoint Load(string path)
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
        return new TrainingCheckpoint(path, state,
            SafeTensorsFile.Load(System.IO.Path.Combine(path, "model.safetensors")),
            SafeTensorsFile.Load(System.IO.Path.Combine(path, "optimizer.safetensors")),
            File.Exists(best) ? SafeTensorsFile.Load(best) : null,
            rngState);
    }

    /// <summary>Complete checkpoint folders, oldest first.</summary>
    public static IReadOnlyList<string> List(string directory) =>
        Directory.GetDirectories(directory, Prefix + "*")
            .Where(d => long.TryParse(System.IO.Path.GetFileName(d)[Prefix.Length..], out _)
                        && File.Exists(System.IO.Path.Combine(d, "trainer_state.json")))
            .OrderBy(d => long.Parse(System.IO.Path.GetFileName(d)[Prefix.Length..]))
            .ToList();

    private static void Prune(string directory, int keep)
    {
        var all = List(directory);
        foreach (var old in all.Take(Math.Max(0, all.Count - keep))) Directory.Delete(old, recursive: true);
        foreach (var stale in Directory.GetDirectories(directory, $".tmp-{Prefix}*")) Directory.Delete(stale, recursive: true);
    }
}
