using System.CommandLine;
using FineTune.MLNet.Cli.Scaffolding;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune new classify|sft|dpo DIR [--name NAME] [--library-path PATH | --package-version V]</c>: writes a small
/// .NET console project that trains with the library on bundled data, saves, reloads and uses the model, with a README.
/// </summary>
internal static class NewCommand
{
    public static Command Create()
    {
        var kind = new Argument<string>("kind") { Description = "classify, sft or dpo." };
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "Folder for the new project (new or empty)." };
        var name = new Option<string?>("--name") { Description = "Project name (csproj, namespace); default: the folder's name." };
        var libraryPath = new Option<string?>("--library-path") { Description = "A FineTune.MLNet checkout (or its src/FineTune.MLNet/FineTune.MLNet.csproj) to reference; default: the checkout found above DIR, the working folder or this tool." };
        var packageVersion = new Option<string?>("--package-version") { Description = "Reference the FineTune.MLNet NuGet package at this version instead of a checkout." };
        var command = new Command("new", "Create a .NET console project that fine-tunes with FineTune.MLNet (classify, sft or dpo) and consumes the saved model.")
        {
            kind, directory, name, libraryPath, packageVersion,
        };
        command.SetAction(r => Run(r.GetValue(kind)!, r.GetValue(directory)!, r.GetValue(name), r.GetValue(libraryPath), r.GetValue(packageVersion)));
        return command;
    }

    private static int Run(string kind, DirectoryInfo directory, string? name, string? libraryPath, string? packageVersion)
    {
        try
        {
            var task = ScaffoldTask.Find(kind);
            var projectName = name ?? directory.Name;
            var library = LibraryReference.Resolve(libraryPath, packageVersion, directory.FullName);
            var files = ProjectScaffolder.Write(task, directory.FullName, projectName, library);
            Console.WriteLine($"Created {task.Name} project '{projectName}' in {directory.FullName} ({task.Description}):");
            foreach (var file in files) Console.WriteLine($"  {Path.GetRelativePath(directory.FullName, file)}");
            Console.WriteLine(library.ProjectPath is not null
                ? $"It references the library at {library.ProjectPath}."
                : $"It references the {LibraryReference.PackageId} package {library.PackageVersion}.");
            Console.WriteLine($"Run it:  cd {directory.FullName} && dotnet run -c Release -- --epochs 1 --limit 32");
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e) || e is IOException or UnauthorizedAccessException)
        {
            return CliErrors.Report(e);
        }
    }
}
