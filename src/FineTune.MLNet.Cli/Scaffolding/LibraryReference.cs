namespace FineTune.MLNet.Cli.Scaffolding;

/// <summary>
/// How a generated project references FineTune.MLNet: a <c>ProjectReference</c> to the library's csproj in a checkout
/// (given with <c>--library-path</c>, or found by walking up from the output folder, the working folder and the tool's
/// own folder), or a <c>PackageReference</c> to a NuGet version (<c>--package-version</c>).
/// </summary>
internal sealed record LibraryReference(string? ProjectPath, string? PackageVersion)
{
    public const string PackageId = "FineTune.MLNet";

    /// <summary>The library project inside a checkout, relative to its root.</summary>
    public static readonly string ProjectInCheckout = Path.Combine("src", "FineTune.MLNet", "FineTune.MLNet.csproj");

    /// <summary>The reference to write, from the flags; neither flag and no checkout found is an error naming both flags.</summary>
    public static LibraryReference Resolve(string? libraryPath, string? packageVersion, string outputDirectory)
    {
        if (libraryPath is not null && packageVersion is not null)
            throw new ArgumentException("--library-path and --package-version: give one of them, not both.");
        if (packageVersion is not null)
        {
            if (packageVersion.Length == 0 || !packageVersion.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '+'))
                throw new ArgumentException($"--package-version: expected a NuGet version such as 1.0.0 or 1.0.0-preview.1, got '{packageVersion}'.");
            return new LibraryReference(null, packageVersion);
        }
        if (libraryPath is not null) return new LibraryReference(ProjectFromPath(libraryPath), null);
        var start = new[] { outputDirectory, Environment.CurrentDirectory, AppContext.BaseDirectory };
        var found = start.Select(FindCheckout).FirstOrDefault(p => p is not null)
            ?? throw new ArgumentException(
                "No FineTune.MLNet checkout was found above the output folder, the working folder or the tool's folder: " +
                "pass --library-path (the checkout or src/FineTune.MLNet/FineTune.MLNet.csproj) or --package-version (a NuGet version).");
        return new LibraryReference(found, null);
    }

    /// <summary>The <c>ItemGroup</c> line for the csproj.</summary>
    public string ToMsBuild() => ProjectPath is not null
        ? $"    <ProjectReference Include=\"{ProjectPath}\" />"
        : $"    <PackageReference Include=\"{PackageId}\" Version=\"{PackageVersion}\" />";

    /// <summary>A csproj path, or a checkout folder holding <see cref="ProjectInCheckout"/>; anything else is an error naming the flag.</summary>
    private static string ProjectFromPath(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full) && full.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase)) return full;
        if (Directory.Exists(full))
        {
            var inCheckout = Path.Combine(full, ProjectInCheckout);
            if (File.Exists(inCheckout)) return inCheckout;
            var direct = Path.Combine(full, "FineTune.MLNet.csproj");
            if (File.Exists(direct)) return direct;
        }
        throw new ArgumentException($"--library-path: '{full}' is neither FineTune.MLNet.csproj nor a checkout holding {ProjectInCheckout}.");
    }

    private static string? FindCheckout(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ProjectInCheckout);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
