using FineTune.MLNet.ChatTemplates;
using FineTune.MLNet.Training.Tasks.Sft;
using FineTune.MLNet.Training;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>Which exceptions are the user's input (exit code 2 with the message) rather than a bug.</summary>
internal static class CliErrors
{
    public const int BadInput = 2;

    /// <summary>Training stopped early (disk full, a diverging loss); the last checkpoint is intact, so the same command resumes.</summary>
    public const int TrainingHalted = 3;

    public static bool IsBadInput(Exception e) =>
        e is ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or KeyNotFoundException
            or InvalidOperationException or NotSupportedException or SftDataException or ChatTemplateException or FormatException
            or TrainingHaltedException;

    /// <summary>Writes <c>error: message</c> to standard error and returns <see cref="BadInput"/> (<see cref="TrainingHalted"/> for a <see cref="TrainingHaltedException"/>).</summary>
    public static int Report(Exception e)
    {
        var halted = e is TrainingHaltedException;
        Console.Error.WriteLine($"{(halted ? "\n" : "")}error: {Describe(e)}");   // a halt ends the progress bar's line first
        return halted ? TrainingHalted : BadInput;
    }

    /// <summary>The message without .NET's " (Parameter 'x')" and "Actual value was v." additions, which the messages already say.</summary>
    public static string Describe(Exception e)
    {
        var message = e.Message;
        if (e is ArgumentException { ParamName: { } name })
        {
            var cut = message.IndexOf($" (Parameter '{name}')", StringComparison.Ordinal);
            if (cut >= 0) message = message[..cut];
        }
        return message;
    }
}
