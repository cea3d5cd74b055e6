using System.Text.Json;
using System.Text.RegularExpressions;
using SkiaSharp;
using Xunit;

namespace FineTune.MLNet.Tests.Reporting;

/// <summary>A written run report read back: report.md, report.html, the figures, and the run folder's metrics.jsonl / metrics.json.</summary>
internal sealed partial class ReportFiles(string runFolder)
{
    public string Folder { get; } = runFolder;

    public string Markdown { get; } = File.ReadAllText(Path.Combine(runFolder, "report.md"));

    public string Html { get; } = File.ReadAllText(Path.Combine(runFolder, "report.html"));

    public string HtmlPath => Path.Combine(Folder, "report.html");

    public List<JsonElement> Lines(string type) =>
        [.. File.ReadAllLines(Path.Combine(Folder, "metrics.jsonl")).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Where(l => l.GetProperty("type").GetString() == type)];

    public JsonElement Metrics() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "metrics.json"))).RootElement.Clone();

    /// <summary>
    /// Every figure the Markdown links is a PNG file in report-images/ of the chart size, and the HTML embeds the same
    /// bytes as a data: URI, in the same order, with no other image; returns the number of figures.
    /// </summary>
    public int AssertFiguresMatch(int width, int height)
    {
        var linked = MarkdownImage().Matches(Markdown).Select(m => m.Groups[1].Value).ToList();
        var embedded = HtmlImage().Matches(Html).Select(m => Convert.FromBase64String(m.Groups[1].Value)).ToList();
        Assert.Equal(HtmlAnyImage().Count(Html), embedded.Count);   // no <img> that is not an embedded PNG
        Assert.Equal(linked.Count, embedded.Count);
        for (var i = 0; i < linked.Count; i++)
        {
            var bytes = File.ReadAllBytes(Path.Combine(Folder, linked[i]));
            Assert.Equal(bytes, embedded[i]);
            using var bitmap = SKBitmap.Decode(bytes);
            Assert.NotNull(bitmap);
            Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        }
        Assert.Equal(linked.Count, Directory.GetFiles(Path.Combine(Folder, "report-images"), "*.png").Length);
        return linked.Count;
    }

    /// <summary>Both reports hold the Markdown table row <paramref name="cells"/> (the HTML as &lt;td&gt; cells in a row).</summary>
    public void AssertRow(params string[] cells)
    {
        var md = "| " + string.Join(" | ", cells) + " |";
        var near = string.Join("\n", Markdown.Split('\n').Where(l => l.StartsWith("| " + cells[0] + " |", StringComparison.Ordinal)));
        Assert.True(Markdown.Contains(md, StringComparison.Ordinal), $"report.md lacks the row '{md}'; rows starting so:\n{near}");
        var html = "<tr>" + string.Concat(cells.Select(c => $"<td>{System.Net.WebUtility.HtmlEncode(c)}</td>")) + "</tr>";
        Assert.True(Html.Contains(html, StringComparison.Ordinal), $"report.html lacks the row '{html}'");
    }

    /// <summary>Both reports hold <paramref name="text"/> (HTML-encoded in the HTML).</summary>
    public void AssertText(string text)
    {
        Assert.True(Markdown.Contains(text, StringComparison.Ordinal), $"report.md lacks '{text}'");
        Assert.True(Html.Contains(System.Net.WebUtility.HtmlEncode(text), StringComparison.Ordinal), $"report.html lacks '{text}'");
    }

    public static string F4(double v) => v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture);

    public static string Percent(double v) => (100 * v).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + "%";

    [GeneratedRegex(@"!\[[^\]]*\]\((report-images/[^)]+\.png)\)")]
    private static partial Regex MarkdownImage();

    [GeneratedRegex("<img [^>]*src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"")]
    private static partial Regex HtmlImage();

    [GeneratedRegex("<img ")]
    private static partial Regex HtmlAnyImage();
}
