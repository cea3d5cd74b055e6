using System.Text;

namespace FineTune.MLNet.Cli.Scaffolding;

/// <summary>Writes a generated project: the task's files with their placeholders filled, and <c>NAME.csproj</c>.</summary>
internal static class ProjectScaffolder
{
    /// <summary>The classify data's header in the sample files, and the catalog's default column names it becomes.</summary>
    private const string ReviewsHeader = "text,label";
    private const string StandardClassifyHeader = "Text,Label";

    /// <summary>Writes the project into <paramref name="directory"/> (created; it must be empty or absent) and returns the files written.</summary>
    public static IReadOnlyList<string> Write(ScaffoldTask task, string directory, string name, LibraryReference library)
    {
        ValidateName(name);
        var full = Path.GetFullPath(directory);
        if (File.Exists(full)) throw new ArgumentException($"DIR: '{full}' is a file; expected a new or empty folder.");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new ArgumentException($"DIR: '{full}' is not empty; expected a new or empty folder (nothing was written).");

        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Name"] = name, ["Namespace"] = NamespaceOf(name), ["Task"] = task.Name, ["LibraryReference"] = library.ToMsBuild(),
        };
        var files = task.Files.Concat(ScaffoldTask.CommonFiles).Append(($"{name}.csproj", "common/Project.csproj")).ToList();
        var written = new List<string>();
        foreach (var (output, template) in files)
        {
            var text = TemplateResources.Read(template);
            text = output.StartsWith("data/", StringComparison.Ordinal) ? StandardHeader(text) : Fill(text, values, template);
            var path = Path.Combine(full, output);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            written.Add(path);
        }
        return written;
    }

    /// <summary>A C# namespace from the project name: letters, digits and underscores, dots between parts, no leading digit.</summary>
    public static string NamespaceOf(string name)
    {
        var parts = name.Split('.', StringSplitOptions.RemoveEmptyEntries).Select(part =>
        {
            var s = new string(part.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_').ToArray());
            return char.IsDigit(s[0]) ? "_" + s : s;
        });
        return string.Join('.', parts);
    }

    private static void ValidateName(string name)
    {
        if (name.Length == 0 || name.Length > 100 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')) || name.Trim('.').Length == 0)
            throw new ArgumentException($"--name: expected a project name of letters, digits, '_', '-' and '.', got '{name}'.");
    }

    /// <summary>Fills every <c>{{Key}}</c>; a placeholder without a value is a template bug and names the template.</summary>
    private static string Fill(string text, IReadOnlyDictionary<string, string> values, string template)
    {
        foreach (var (key, value) in values) text = text.Replace("{{" + key + "}}", value, StringComparison.Ordinal);
        var left = text.IndexOf("{{", StringComparison.Ordinal);
        if (left >= 0) throw new InvalidOperationException($"Template '{template}' has an unknown placeholder at '{text[left..Math.Min(text.Length, left + 30)]}'.");
        return text;
    }

    /// <summary>The reviews files' header <c>text,label</c> becomes the catalog's <c>Text,Label</c>; other data is copied as is.</summary>
    private static string StandardHeader(string text) =>
        text.StartsWith(ReviewsHeader + "\r\n", StringComparison.Ordinal) || text.StartsWith(ReviewsHeader + "\n", StringComparison.Ordinal)
            ? StandardClassifyHeader + text[ReviewsHeader.Length..]
            : text;
}
