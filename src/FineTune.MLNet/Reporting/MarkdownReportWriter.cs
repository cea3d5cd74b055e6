using System.Text;

namespace FineTune.MLNet.Reporting;

/// <summary>Renders a <see cref="ReportDocument"/> as Markdown (GitHub flavour); figures are linked by file name from the folder <see cref="RunReport.ImagesFolder"/>.</summary>
public static class MarkdownReportWriter
{
    /// <summary>The Markdown text of <paramref name="document"/>.</summary>
    public static string Render(ReportDocument document)
    {
        var md = new StringBuilder();
        md.Append("# ").Append(document.Title).Append("\n\n").Append(document.Lead).Append("\n\n");
        foreach (var section in document.Sections)
        {
            md.Append("## ").Append(section.Heading).Append("\n\n");
            foreach (var block in section.Blocks)
            {
                switch (block)
                {
                    case ReportParagraph p:
                        md.Append(p.Text).Append("\n\n");
                        break;
                    case ReportCode c:
                        md.Append("```text\n").Append(c.Text.Replace("```", "` ` `", StringComparison.Ordinal)).Append("\n```\n\n");
                        break;
                    case ReportTable t:
                        md.Append("| ").Append(string.Join(" | ", t.Header.Select(Cell))).Append(" |\n|").Append(string.Concat(t.Header.Select(_ => " --- |"))).Append('\n');
                        foreach (var row in t.Rows) md.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
                        md.Append('\n');
                        break;
                    case ReportFigure f:
                        md.Append("![").Append(f.Caption).Append("](").Append(RunReport.ImagesFolder).Append('/').Append(f.FileName).Append(")\n\n");
                        break;
                }
            }
        }
        return md.ToString();
    }

    private static string Cell(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
