using FineTune.MLNet.Formats;

namespace FineTune.MLNet.Reporting;

/// <summary>The files <see cref="RunReport.Write"/> wrote.</summary>
public sealed record RunReportFiles(string Html, string Markdown, IReadOnlyList<string> Images);

/// <summary>
/// Writes a run folder's report: <c>report.html</c> (self-contained, figures embedded), <c>report.md</c> and the figures
/// as PNG files in <c>report-images/</c> for the Markdown. Built from <c>metrics.json</c> and, when present,
/// <c>config.json</c> and <c>preflight.json</c>; rewriting a report replaces the old one.
/// </summary>
public static class RunReport
{
    /// <summary>The folder (in the run folder) of the Markdown report's figures.</summary>
    public const string ImagesFolder = "report-images";

    /// <summary>Builds and writes the report of <paramref name="runDirectory"/>.</summary>
    public static RunReportFiles Write(string runDirectory)
    {
        using var inputs = RunFolderInputs.Read(runDirectory);
        var document = RunReportBuilder.Build(inputs);
        var imagesDir = Path.Combine(runDirectory, ImagesFolder);
        Directory.CreateDirectory(imagesDir);
        var images = new List<string>();
        foreach (var figure in document.Sections.SelectMany(s => s.Blocks).OfType<ReportFigure>())
        {
            var path = Path.Combine(imagesDir, figure.FileName);
            AtomicFile.Write(path, s => s.Write(figure.Png));
            images.Add(path);
        }
        var html = Path.Combine(runDirectory, "report.html");
        var markdown = Path.Combine(runDirectory, "report.md");
        AtomicFile.WriteAllText(html, HtmlReportWriter.Render(document));
        AtomicFile.WriteAllText(markdown, MarkdownReportWriter.Render(document));
        return new RunReportFiles(html, markdown, images);
    }
}
