using System.Text;
using System.Text.Json;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.Json;

namespace FineTune.MLNet.Reporting;

/// <summary>
/// A run folder's <c>metrics.jsonl</c> read back: the <c>train</c> lines (one per optimizer step: <c>step</c>,
/// <c>epoch</c>, <c>elapsed_seconds</c>, <c>loss</c>, <c>learning_rate</c>, <c>grad_norm</c>, <c>tokens_per_second</c>
/// and the task's metrics, DPO's <c>rewards/*</c> and <c>logps/*</c>) and the <c>eval</c> lines (one per validation pass:
/// <c>validation_loss</c>, <c>accuracy</c>, <c>macro_f1</c>, the task's metrics), in file order.
/// </summary>
public sealed class RunMetricsLog
{
    /// <summary>The file name in a run folder.</summary>
    public const string FileName = "metrics.jsonl";

    /// <summary>Largest <c>metrics.jsonl</c> read (a line is ~200 bytes: about a million steps).</summary>
    public const long MaxFileBytes = 256L << 20;

    private RunMetricsLog(IReadOnlyList<JsonElement> train, IReadOnlyList<JsonElement> eval)
    {
        Train = train;
        Eval = eval;
    }

    /// <summary>The training steps' lines.</summary>
    public IReadOnlyList<JsonElement> Train { get; }

    /// <summary>The validation passes' lines.</summary>
    public IReadOnlyList<JsonElement> Eval { get; }

    /// <summary>An empty log (a run folder without <c>metrics.jsonl</c>).</summary>
    public static RunMetricsLog Empty { get; } = new([], []);

    /// <summary>True when either list holds a line with a number under <paramref name="key"/>.</summary>
    public bool Has(string key) => Train.Concat(Eval).Any(l => RunMetrics.NumberOf(l, key) is not null);

    /// <summary>
    /// Reads <paramref name="path"/>. Blank lines are skipped; the last line may be torn (a killed run) and is then
    /// dropped; any other line that is not a JSON object with a <c>type</c> of <c>train</c> or <c>eval</c> and a
    /// <c>step</c> is an error naming the file and the line number.
    /// </summary>
    public static RunMetricsLog Read(string path)
    {
        var text = Encoding.UTF8.GetString(BoundedFile.ReadAllBytes(path, MaxFileBytes, "metrics.jsonl"));
        var lines = text.Split('\n');
        var train = new List<JsonElement>();
        var eval = new List<JsonElement>();
        var last = Array.FindLastIndex(lines, l => l.Trim().Length > 0);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            JsonElement record;
            try
            {
                using var doc = JsonInput.Parse(Encoding.UTF8.GetBytes(line), (problem, inner) => new InvalidDataException($"'{path}' line {i + 1} {problem}.", inner));
                record = doc.RootElement.Clone();
            }
            catch (InvalidDataException) when (i == last)
            {
                continue;   // a line torn by a kill
            }
            var type = record.ValueKind == JsonValueKind.Object && record.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type is not ("train" or "eval") || RunMetrics.NumberOf(record, "step") is null)
                throw new InvalidDataException($"'{path}' line {i + 1}: expected an object with \"type\": \"train\" or \"eval\" and a \"step\" number.");
            (type == "train" ? train : eval).Add(record);
        }
        return new RunMetricsLog(train, eval);
    }
}
