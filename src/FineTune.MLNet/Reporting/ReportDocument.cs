namespace FineTune.MLNet.Reporting;

/// <summary>A run report as data: a title, a lead paragraph and sections; the HTML and Markdown writers render the same document.</summary>
public sealed record ReportDocument(string Title, string Lead, IReadOnlyList<ReportSection> Sections);

/// <summary>One section of a report: a heading and its blocks in order.</summary>
public sealed record ReportSection(string Heading, IReadOnlyList<ReportBlock> Blocks);

/// <summary>A block of a report section.</summary>
public abstract record ReportBlock;

/// <summary>A paragraph of plain text (the writers escape it).</summary>
public sealed record ReportParagraph(string Text) : ReportBlock;

/// <summary>Preformatted text (a rendered training example), shown as written in a monospace font.</summary>
public sealed record ReportCode(string Text) : ReportBlock;

/// <summary>A table: a header row and data rows of the same width.</summary>
public sealed record ReportTable(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) : ReportBlock;

/// <summary>A PNG figure: <paramref name="FileName"/> is its name beside the Markdown report; HTML embeds the bytes.</summary>
public sealed record ReportFigure(string FileName, string Caption, byte[] Png) : ReportBlock;
