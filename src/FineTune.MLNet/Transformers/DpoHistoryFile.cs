using System.Text.Json;
using System.Text.Json.Serialization;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Training.Tasks.Dpo;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// <c>dpo_history.json</c> of a saved <see cref="LoraFineTuneTransformer"/> that was DPO-tuned: its DPO metrics after
/// each optimizer step and validation pass. An SFT-tuned transformer has no such file.
/// </summary>
internal static class DpoHistoryFile
{
    public const string FileName = "dpo_history.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Writes the history into <paramref name="directory"/>, or removes a stale file there when it is empty.</summary>
    public static void Write(string directory, IReadOnlyList<DpoProgress> history)
    {
        var path = Path.Combine(directory, FileName);
        if (history.Count == 0)
        {
            File.Delete(path);
            return;
        }
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(history, Json));
    }

    /// <summary>The history saved in <paramref name="directory"/>, empty when there is none.</summary>
    public static IReadOnlyList<DpoProgress> Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<DpoProgress>>(File.ReadAllText(path), Json)
                   ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid DPO history: {e.Message}", e);
        }
    }
}
