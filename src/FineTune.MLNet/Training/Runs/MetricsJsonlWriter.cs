using System.Text.Json;
using FineTune.MLNet.Formats;

namespace FineTune.MLNet.Training.Runs;

/// <summary>
/// <c>metrics.jsonl</c>: one JSON object per line, <c>{"type": "train"|"eval", "step", "epoch" (1-based),
/// "elapsed_seconds", ...<see cref="RunScalars"/> keys}</c>, appended and flushed line by line. The first line a run
/// writes is for step <c>s</c>; lines of an earlier run with step ≥ <c>s</c> are dropped first, so a run resumed from the
/// checkpoint at step <c>s − 1</c> continues the file without duplicates (and a fresh run, <c>s = 1</c>, starts it anew).
/// </summary>
internal sealed class MetricsJsonlWriter(string path) : IDisposable
{
    public const string FileName = "metrics.jsonl";

    private FileStream? _stream;

    /// <summary>Seconds of training recorded by the kept lines (the largest <c>elapsed_seconds</c>); a resumed run adds its own to it.</summary>
    public double ElapsedBefore { get; private set; }

    /// <summary>Drops the lines with step ≥ <paramref name="firstStep"/> and opens the file for appending.</summary>
    public void Open(long firstStep)
    {
        var kept = new List<string>();
        if (File.Exists(path))
        {
            foreach (var line in File.ReadAllLines(path))
            {
                if (line.Length == 0) continue;
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    if (doc.RootElement.GetProperty("step").GetInt64() >= firstStep) continue;
                    if (doc.RootElement.TryGetProperty("elapsed_seconds", out var e)) ElapsedBefore = Math.Max(ElapsedBefore, e.GetDouble());
                    kept.Add(line);
                }
                catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    // A line torn by a kill (the last one) is dropped with the steps after the checkpoint.
                }
            }
            AtomicFile.WriteAllText(path, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
        }
        _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    public void Write(TrainingProgress p, double elapsedSeconds)
    {
        if (_stream is null) throw new InvalidOperationException("Open the metrics file first.");
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", p.IsValidation ? "eval" : "train");
            json.WriteNumber("step", p.Step);
            json.WriteNumber("epoch", p.Epoch + 1);
            json.WriteNumber("elapsed_seconds", Math.Round(elapsedSeconds, 3));
            foreach (var s in RunScalars.Of(p)) WriteNumber(json, s.Key, s.Value);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        _stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        _stream.Flush();
    }

    /// <summary>JSON has no NaN/Infinity: such a value (a skipped non-finite step's loss) is written as a string, as Python's json writes NaN.</summary>
    private static void WriteNumber(Utf8JsonWriter json, string key, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(key, value);
        else json.WriteString(key, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Dispose() => _stream?.Dispose();
}
