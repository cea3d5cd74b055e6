using System.CommandLine;
using System.Reflection;
using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Training.Runs;

namespace FineTune.MLNet.Cli.Config;

/// <summary>
/// The run folder of a training command: its <c>--output</c> folder, with the command line as
/// <see cref="RunFolderSettings.CommandLine"/>: every option of the command (but <c>--config</c> and <c>--help</c>) by
/// flag name without dashes, with its resolved value (files and folders as full paths; a bundled model's name stays a name), so the written
/// <c>config.json</c> is a <c>--config</c> file that repeats the run.
/// </summary>
internal static class CliRunFolder
{
    /// <summary>The parse result of this process's command line (set by Program before invoking).</summary>
    public static ParseResult? Current { get; set; }

    public static RunFolderSettings For(DirectoryInfo output) => new() { Directory = output.FullName, CommandLine = Current is { } r ? CommandLineOf(r) : null };

    public static RunCommandLine CommandLineOf(ParseResult result)
    {
        var names = new List<string>();
        for (var c = result.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (c.Command is not RootCommand) names.Insert(0, c.Command.Name);
        }
        var arguments = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var option in result.CommandResult.Command.Options)
        {
            if (!option.Name.StartsWith("--", StringComparison.Ordinal) || option.Name is ConfigFileArguments.OptionName or "--help" || option is System.CommandLine.Help.HelpOption) continue;
            var value = GetValue.MakeGenericMethod(option.ValueType).Invoke(result, [option]);
            arguments[option.Name[2..]] = value switch
            {
                FileSystemInfo f when !f.Exists && PretrainedDecoders.IsName(f.ToString()) => f.ToString(),   // --model tinystories-260k stays a name
                FileSystemInfo f => f.FullName,
                _ => value,
            };
        }
        return new RunCommandLine(string.Join(' ', names), arguments);
    }

    private static readonly MethodInfo GetValue = typeof(ParseResult).GetMethods()
        .Single(m => m.Name == nameof(ParseResult.GetValue) && m.IsGenericMethodDefinition && m.GetParameters()[0].ParameterType.IsGenericType
            && m.GetParameters()[0].ParameterType.GetGenericTypeDefinition() == typeof(Option<>));
}
