using System.Text.RegularExpressions;

namespace FineTune.MLNet.Tests.Architecture;

/// <summary>
/// Which top-level folders of a C# library use which others, counted as <c>../shared/tools/folder_cycles.py</c> counts
/// them: a file in folder A uses folder B when its text names <c>Root.B</c> (a <c>using</c> line or a qualified name),
/// ignoring the file's own <c>namespace</c> line. Cycles are the strongly connected components with more than one folder.
/// </summary>
internal sealed class FolderGraph
{
    private static readonly Regex NamespaceLine = new(@"^\s*namespace\s+[^\n;{]+", RegexOptions.Multiline | RegexOptions.CultureInvariant);

    private FolderGraph(IReadOnlyList<string> folders, Dictionary<string, SortedDictionary<string, SortedSet<string>>> edges)
    {
        Folders = folders;
        Edges = edges;
    }

    /// <summary>Top-level folders (without bin/obj), sorted.</summary>
    public IReadOnlyList<string> Folders { get; }

    /// <summary>from -> to -> files of <c>from</c> (relative to the library folder) that name <c>to</c>.</summary>
    public Dictionary<string, SortedDictionary<string, SortedSet<string>>> Edges { get; }

    public int EdgeCount => Edges.Values.Sum(e => e.Count);

    /// <summary>Reads every <c>.cs</c> file under the top-level folders of <paramref name="libraryDir"/>.</summary>
    public static FolderGraph Build(string libraryDir, string rootNamespace)
    {
        var folders = Directory.GetDirectories(libraryDir).Select(Path.GetFileName).OfType<string>()
            .Where(d => d is not ("bin" or "obj")).Order(StringComparer.Ordinal).ToList();
        var known = folders.ToHashSet(StringComparer.Ordinal);
        var reference = new Regex(@"\b" + Regex.Escape(rootNamespace) + @"\.([A-Z][A-Za-z0-9]*)", RegexOptions.CultureInvariant);
        var edges = folders.ToDictionary(f => f, _ => new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal));
        foreach (var folder in folders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(libraryDir, folder), "*.cs", SearchOption.AllDirectories))
            {
                var text = NamespaceLine.Replace(File.ReadAllText(file), "");
                foreach (Match m in reference.Matches(text))
                {
                    var target = m.Groups[1].Value;
                    if (target == folder || !known.Contains(target)) continue;
                    if (!edges[folder].TryGetValue(target, out var files)) edges[folder][target] = files = new SortedSet<string>(StringComparer.Ordinal);
                    files.Add(Path.GetRelativePath(libraryDir, file).Replace('\\', '/'));
                }
            }
        }
        return new FolderGraph(folders, edges);
    }

    /// <summary>Groups of folders that depend on each other in a circle (Tarjan's strongly connected components of size &gt; 1).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<IReadOnlyList<string>>();
        var next = 0;
        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in Edges[v].Keys)
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                {
                    low[v] = Math.Min(low[v], index[w]);
                }
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do
            {
                x = stack.Pop();
                onStack.Remove(x);
                component.Add(x);
            } while (x != v);
            if (component.Count > 1) result.Add([.. component.Order(StringComparer.Ordinal)]);
        }
        foreach (var folder in Folders)
        {
            if (!index.ContainsKey(folder)) Visit(folder);
        }
        return result;
    }

    /// <summary>The edges inside each cycle with the files that make them, one per line, as the Python tool prints them.</summary>
    public string Describe(IReadOnlyList<IReadOnlyList<string>> cycles)
    {
        var lines = new List<string>();
        foreach (var cycle in cycles)
        {
            lines.Add("cycle among: " + string.Join(", ", cycle));
            foreach (var from in cycle)
            {
                foreach (var (to, files) in Edges[from])
                {
                    if (cycle.Contains(to)) lines.Add($"  {from} -> {to}: {string.Join(", ", files)}");
                }
            }
        }
        return string.Join(Environment.NewLine, lines);
    }
}
