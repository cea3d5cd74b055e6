using FineTune.MLNet.ChatTemplates;
using FineTune.MLNet.Training.Sft;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>Which exceptions are the user's input (exit code 2 with the message) rather than a bug.</summary>
internal static class CliErrors
{
    public const int BadInput = 2;

    public static bool IsBadInput(Exception e) =>
        e is ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or KeyNotFoundException
            or InvalidOperationException or NotSupportedException or SftDataException or ChatTemplateException or FormatException;

    /// <summary>Writes <c>error: message</c> to standard error and returns <see cref="BadInput"/>.</summary>
    public static int Report(Exception e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return BadInput;
    }
}
