using FineTune.MLNet.Tests.Checkpoints;
using Xunit;

namespace FineTune.MLNet.Tests.Architecture;

/// <summary>
/// The top-level folders of src/FineTune.MLNet depend one way (docs/ARCHITECTURE.md): no folder may reach itself
/// through <c>using FineTune.MLNet.X</c> or qualified <c>FineTune.MLNet.X.</c> names.
/// </summary>
public sealed class FolderCycleTests
{
    [Fact]
    public void LibraryFoldersHaveNoDependencyCycle()
    {
        var graph = FolderGraph.Build(LibraryDir(), "FineTune.MLNet");
        Assert.True(graph.Folders.Count >= 15, $"Expected the library's top-level folders, found {graph.Folders.Count}: {string.Join(", ", graph.Folders)}.");
        Assert.True(graph.EdgeCount >= 30, $"Expected the folder-to-folder edges of the library, found {graph.EdgeCount}.");
        var cycles = graph.Cycles();
        Assert.True(cycles.Count == 0,
            $"Folder dependency cycles in src/FineTune.MLNet (see docs/ARCHITECTURE.md for the layers):{Environment.NewLine}{graph.Describe(cycles)}");
    }

    [Fact]
    public void ACycleIsFoundAndItsEdgesAreListed()
    {
        using var dir = new TempDir();
        Write(dir, "A/One.cs", "namespace Lib.A;\nusing Lib.B;\nclass One { }");
        Write(dir, "B/Two.cs", "namespace Lib.B;\nclass Two { Lib.C.Three? t; }");
        Write(dir, "C/Three.cs", "namespace Lib.C;\nusing Lib.A;\nclass Three { }");
        Write(dir, "D/Four.cs", "namespace Lib.D;\nusing Lib.A;\nusing Lib.Missing;\nclass Four { }");
        Write(dir, "obj/Gen.cs", "using Lib.D;");

        var graph = FolderGraph.Build(dir.Path, "Lib");
        var cycles = graph.Cycles();

        Assert.Equal(["A", "B", "C", "D"], graph.Folders);
        Assert.Equal(4, graph.EdgeCount);                       // A->B, B->C, C->A, D->A; the own namespace and Lib.Missing do not count
        var cycle = Assert.Single(cycles);
        Assert.Equal(["A", "B", "C"], cycle);
        var text = graph.Describe(cycles);
        Assert.Contains("A -> B: A/One.cs", text);
        Assert.Contains("B -> C: B/Two.cs", text);
        Assert.Contains("C -> A: C/Three.cs", text);
        Assert.DoesNotContain("D ->", text);
    }

    private static void Write(TempDir dir, string relative, string text)
    {
        var path = Path.Combine(dir.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>src/FineTune.MLNet of the checkout these tests were built from (found above the test binaries).</summary>
    internal static string LibraryDir()
    {
        var library = Path.Combine(RepositoryDir(), "src", "FineTune.MLNet");
        Assert.True(Directory.Exists(library), $"{library} does not exist.");
        return library;
    }

    /// <summary>The checkout these tests were built from: the folder above the test binaries that holds FineTune.MLNet.sln.</summary>
    internal static string RepositoryDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FineTune.MLNet.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"No FineTune.MLNet.sln above {AppContext.BaseDirectory}: the architecture tests read the library's sources.");
    }
}
