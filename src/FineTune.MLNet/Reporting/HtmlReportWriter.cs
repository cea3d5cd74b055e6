using System.Net;
using System.Text;

namespace FineTune.MLNet.Reporting;

/// <summary>Renders a <see cref="ReportDocument"/> as one self-contained HTML page: figures embedded as <c>data:image/png</c> URIs, styles inline, no scripts.</summary>
public static class HtmlReportWriter
{
    private const string Style = """
        body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
        h1 { border-bottom: 2px solid #4682b4; padding-bottom: .2em; }
        h2 { margin-top: 1.8em; color: #2f5f8a; }
        table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
        th, td { border: 1px solid #ccc; padding: .3em .7em; text-align: left; vertical-align: top; }
        th { background: #eef3f8; }
        td { font-variant-numeric: tabular-nums; }
        figure { margin: 1em 0; }
        figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
        figcaption { font-size: .9em; color: #555; }
        .lead { color: #555; }
        pre { background: #f6f8fa; border: 1px solid #ddd; padding: .6em; white-space: pre-wrap; word-break: break-all; font-size: .85em; }
        """;

    /// <summary>The HTML text of <paramref name="document"/>.</summary>
    public static string Render(ReportDocument document)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(E(document.Title)).Append("</title>\n<style>\n")
            .Append(Style).Append("</style>\n</head>\n<body>\n<h1>").Append(E(document.Title)).Append("</h1>\n<p class=\"lead\">").Append(E(document.Lead)).Append("</p>\n");
        foreach (var section in document.Sections)
        {
            html.Append("<section>\n<h2>").Append(E(section.Heading)).Append("</h2>\n");
            foreach (var block in section.Blocks) Append(html, block);
            html.Append("</section>\n");
        }
        return html.Append("</body>\n</html>\n").ToString();
    }

    private static void Append(StringBuilder html, ReportBlock block)
    {
        switch (block)
        {
            case ReportParagraph p:
                html.Append("<p>").Append(E(p.Text)).Append("</p>\n");
                break;
            case ReportCode c:
                html.Append("<pre>").Append(E(c.Text)).Append("</pre>\n");
                break;
            case ReportTable t:
                html.Append("<table>\n<tr>");
                foreach (var h in t.Header) html.Append("<th>").Append(E(h)).Append("</th>");
                html.Append("</tr>\n");
                foreach (var row in t.Rows)
                {
                    html.Append("<tr>");
                    foreach (var cell in row) html.Append("<td>").Append(E(cell)).Append("</td>");
                    html.Append("</tr>\n");
                }
                html.Append("</table>\n");
                break;
            case ReportFigure f:
                html.Append("<figure><img alt=\"").Append(E(f.Caption)).Append("\" width=\"").Append(ReportCharts.Width).Append("\" height=\"").Append(ReportCharts.Height)
                    .Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(f.Png)).Append("\"><figcaption>").Append(E(f.Caption)).Append("</figcaption></figure>\n");
                break;
            default:
                throw new ArgumentException($"Unknown report block {block.GetType().Name}.", nameof(block));
        }
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
