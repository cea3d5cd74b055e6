using System.Reflection;

namespace FineTune.MLNet.Cli.Scaffolding;

/// <summary>The project templates embedded in the CLI assembly (<c>Templates/**</c>, see the csproj), read by name.</summary>
internal static class TemplateResources
{
    private static readonly Assembly Assembly = typeof(TemplateResources).Assembly;

    /// <summary>The text of <c>Templates/<paramref name="path"/></c>; a missing resource is a packaging bug, named.</summary>
    public static string Read(string path)
    {
        var name = "Templates/" + path;
        using var stream = Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The CLI has no embedded template '{name}' (resources: {string.Join(", ", Names())}).");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Every embedded template's path under <c>Templates/</c>.</summary>
    public static IEnumerable<string> Names() =>
        Assembly.GetManifestResourceNames().Where(n => n.StartsWith("Templates/", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
}
