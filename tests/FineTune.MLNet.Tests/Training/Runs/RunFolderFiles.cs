using System.Text.Json;

namespace FineTune.MLNet.Tests.Training.Runs;

/// <summary>Reads a run folder back for the tests: metrics.jsonl lines and the event files' scalars.</summary>
internal static class RunFolderFiles
{
    public static List<JsonElement> MetricsLines(string dir) =>
        [.. File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    public static string[] EventFiles(string dir) => Directory.GetFiles(dir, "events.out.tfevents.*");

    /// <summary>Checks that every scalar of every metrics.jsonl line is in the event files with the same step and value
    /// (float32), and nothing else is; returns the number of values compared.</summary>
    public static int AssertEventsEqualMetrics(string dir)
    {
        var events = EventFiles(dir).SelectMany(TfRecordTestReader.ReadEvents).ToList();
        Xunit.Assert.All(EventFiles(dir), f => Xunit.Assert.Equal("brain.Event:2", TfRecordTestReader.ReadEvents(f)[0].FileVersion));
        var fromEvents = events.SelectMany(e => e.Scalars.Select(s => (e.Step, s.Tag, s.Value))).ToList();
        var fromJsonl = new List<(long Step, string Tag, float Value)>();
        foreach (var line in MetricsLines(dir))
        {
            var prefix = line.GetProperty("type").GetString() == "train" ? "train/" : "eval/";
            foreach (var p in line.EnumerateObject())
            {
                if (p.Name is "type" or "step" or "epoch" or "elapsed_seconds") continue;
                var tag = prefix + (p.Name == "validation_loss" ? "loss" : p.Name);
                fromJsonl.Add((line.GetProperty("step").GetInt64(), tag, (float)p.Value.GetDouble()));
            }
        }
        Xunit.Assert.Equal(fromJsonl.Count, fromEvents.Count);
        // Event files are one per process start (a resume adds one); compare in step order.
        Xunit.Assert.Equal(fromJsonl.OrderBy(x => x.Step).ThenBy(x => x.Tag, StringComparer.Ordinal), fromEvents.OrderBy(x => x.Step).ThenBy(x => x.Tag, StringComparer.Ordinal));
        return fromJsonl.Count;
    }
}
