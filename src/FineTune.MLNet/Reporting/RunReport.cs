using FineTune.MLNet.Formats;

namespace FineTune.MLNet.Reporting;

/// <summary>The files <see cref="RunReport.Write"/> wrote.</summary>
public sealed record RunReportFiles(string Html, string Markdown, IReadOnlyList<string> Images);

/// <summary>
/// Writes a run folder's report: <c>report.html</c> (self-contained: figures embedded as <c>data:image/png</c> URIs,
/// styles inline, no scripts), <c>report.md</c> and the figures as PNG files in <c>report-images/</c> for the Markdown.
/// Built from the folder's <c>config.json</c>, <c>metrics.jsonl</c> and, when present, <c>metrics.json</c> (the
/// CLI's test evaluation) and <c>preflight.json</c> (<see cref="RunFolderInputs"/>); rewriting a report replaces the
/// old one. The CLI's <c>classify</c>, <c>sft</c> and <c>dpo</c> call it at the end of a run, <c>finetune report DIR</c>
/// re-renders one; an API run calls it on <c>TrainerOptions.RunFolder.Directory</c> after <c>Fit</c>.
/// </summary>
public static class RunReport
{
    /// <summary>The folder (in the run folder) of the Markdown report's figures.</summary>
    public const string ImagesFolder = "report-images";

    /// <summary>The HTML report's file name.</summary>
    public const string HtmlFileName = "report.html";

    /// <summary>The Markdown report's file name.</summary>
    public const string MarkdownFileName = "report.md";

    /// <summary>Builds and writes the report of <paramref name="runDirectory"/>.</summary>
    public static RunReportFiles Write(string runDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
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
        var html = Path.Combine(runDirectory, HtmlFileName);
        var markdown = Path.Combine(runDirectory, MarkdownFileName);
        AtomicFile.WriteAllText(html, HtmlReportWriter.Render(document));
        AtomicFile.WriteAllText(markdown, MarkdownReportWriter.Render(document));
        return new RunReportFiles(html, markdown, images);
    }
}
