using FineTune.MLNet.Training;
using Spectre.Console;

namespace FineTune.MLNet.Cli.Terminal;

/// <summary>
/// What <c>finetune classify|sft|dpo</c> show while training, on standard error: a live Spectre.Console bar (step/total,
/// epoch, loss, tokens/s, ETA) with an evaluation table at each epoch on a terminal (<see cref="LiveTrainingProgress"/>),
/// plain lines otherwise (<see cref="PlainTrainingProgress"/>: CI logs, tests, a redirected stderr). Dispose it when
/// training ends (it stops the live display). <c>FINETUNE_PROGRESS=plain|live</c> overrides the choice.
/// </summary>
internal abstract class TrainingProgressView : IProgress<TrainingProgress>, IDisposable
{
    /// <summary>The environment variable that forces <c>plain</c> or <c>live</c>.</summary>
    public const string ModeVariable = "FINETUNE_PROGRESS";

    public abstract void Report(TrainingProgress value);

    public virtual void Dispose()
    {
    }

    /// <summary>Live on an interactive ANSI terminal whose stderr is not redirected; plain lines otherwise.</summary>
    public static TrainingProgressView ForConsole()
    {
        var mode = Environment.GetEnvironmentVariable(ModeVariable);
        if (mode is not (null or "" or "plain" or "live"))
            throw new ArgumentException($"{ModeVariable} must be 'plain' or 'live', got '{mode}'.");
        if (mode == "plain") return new PlainTrainingProgress(Console.Error, TimeProvider.System);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        bool terminal = !Console.IsErrorRedirected && console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;
        if (mode != "live" && !terminal) return new PlainTrainingProgress(Console.Error, TimeProvider.System);
        try
        {
            return new LiveTrainingProgress(console, TimeProvider.System);
        }
        catch (InvalidOperationException)
        {
            return new PlainTrainingProgress(Console.Error, TimeProvider.System);   // no live display here: plain lines still show progress
        }
    }
}
