using System.Text.RegularExpressions;
using Xunit;

namespace FineTune.MLNet.Tests.Architecture;

/// <summary>
/// docs/ARCHITECTURE.md matches the code: its layer table lists every top-level folder of src/FineTune.MLNet once, each
/// row's "uses today" is exactly the set of folders that row's files name (as <see cref="FolderGraph"/> counts them),
/// every use goes to a strictly lower layer, and the counts in its opening paragraph are the graph's.
/// </summary>
public sealed class ArchitectureDocTests
{
    private static readonly Regex Row = new(@"^\| (?<layer>\d+) \| `(?<folder>[A-Za-z]+)/` \|(?<owns>.*)\| (?<uses>[^|]*) \|$", RegexOptions.CultureInvariant);
    private static readonly Regex Counts = new(@"today: (?<folders>\d+) folders, (?<edges>\d+) edges, (?<cycles>\d+) cycles", RegexOptions.CultureInvariant);

    private sealed record TableRow(int Layer, string Folder, IReadOnlySet<string> Uses);

    private static (List<TableRow> Rows, string Text) ReadDoc()
    {
        var path = Path.Combine(FolderCycleTests.RepositoryDir(), "docs", "ARCHITECTURE.md");
        var text = File.ReadAllText(path);
        var rows = new List<TableRow>();
        foreach (var line in text.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            var m = Row.Match(line);
            if (!m.Success) continue;
            var uses = m.Groups["uses"].Value.Trim();
            var set = uses == "–" ? new HashSet<string>() : uses.Split(',', StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            rows.Add(new TableRow(int.Parse(m.Groups["layer"].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups["folder"].Value, set));
        }
        return (rows, text);
    }

    [Fact]
    public void TheLayerTableListsEachFolderOnceWithWhatItUses()
    {
        var graph = FolderGraph.Build(FolderCycleTests.LibraryDir(), "FineTune.MLNet");
        var (rows, _) = ReadDoc();
        Assert.Equal(graph.Folders, rows.Select(r => r.Folder).Order(StringComparer.Ordinal));   // each folder once, none that does not exist

        var wrong = new List<string>();
        foreach (var row in rows)
        {
            var used = graph.Edges[row.Folder];
            var missing = used.Keys.Where(u => !row.Uses.Contains(u)).ToList();
            var extra = row.Uses.Where(u => !used.ContainsKey(u)).Order(StringComparer.Ordinal).ToList();
            foreach (var u in missing) wrong.Add($"{row.Folder} uses {u} (in {string.Join(", ", used[u].Take(3))}) but its row does not say so");
            foreach (var u in extra) wrong.Add($"{row.Folder}'s row names {u}, which none of its files uses");
        }
        Assert.True(wrong.Count == 0, "docs/ARCHITECTURE.md's \"uses today\" column is out of date:" + Environment.NewLine + string.Join(Environment.NewLine, wrong));
        Assert.Equal(graph.EdgeCount, rows.Sum(r => r.Uses.Count));
    }

    [Fact]
    public void EveryUseGoesToALowerLayer()
    {
        var graph = FolderGraph.Build(FolderCycleTests.LibraryDir(), "FineTune.MLNet");
        var layer = ReadDoc().Rows.ToDictionary(r => r.Folder, r => r.Layer, StringComparer.Ordinal);
        var upward = graph.Edges
            .SelectMany(e => e.Value.Select(to => (From: e.Key, To: to.Key, Files: to.Value)))
            .Where(e => layer[e.To] >= layer[e.From])
            .Select(e => $"{e.From} (layer {layer[e.From]}) -> {e.To} (layer {layer[e.To]}): {string.Join(", ", e.Files.Take(3))}")
            .ToList();
        Assert.True(graph.EdgeCount >= 30, $"Expected the library's folder-to-folder edges, found {graph.EdgeCount}.");
        Assert.True(upward.Count == 0, "Uses of a folder in the same or a higher layer:" + Environment.NewLine + string.Join(Environment.NewLine, upward));
    }

    [Fact]
    public void TheOpeningCountsAreTheGraphs()
    {
        var graph = FolderGraph.Build(FolderCycleTests.LibraryDir(), "FineTune.MLNet");
        var m = Counts.Match(ReadDoc().Text);
        Assert.True(m.Success, "docs/ARCHITECTURE.md no longer says \"today: N folders, M edges, K cycles\".");
        Assert.Equal((graph.Folders.Count, graph.EdgeCount, graph.Cycles().Count),
            (int.Parse(m.Groups["folders"].Value, System.Globalization.CultureInfo.InvariantCulture),
             int.Parse(m.Groups["edges"].Value, System.Globalization.CultureInfo.InvariantCulture),
             int.Parse(m.Groups["cycles"].Value, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
