using FineTune.MLNet.Training;

namespace FineTune.MLNet.Cli.Terminal;

/// <summary>
/// Progress as plain lines (no cursor movement, no colors): one line per step for runs up to <see cref="MaxStepLines"/>
/// steps, else every ⌈total/<see cref="MaxStepLines"/>⌉-th step and the last; one line per evaluation.
/// </summary>
internal sealed class PlainTrainingProgress(TextWriter output, TimeProvider time) : TrainingProgressView
{
    /// <summary>About how many step lines a run prints at most.</summary>
    public const int MaxStepLines = 100;

    private readonly object _gate = new();
    private readonly EtaClock _eta = new(time);

    public override void Report(TrainingProgress value)
    {
        lock (_gate)
        {
            if (value.IsValidation)
            {
                output.WriteLine(ProgressFigures.EvaluationLine(value));
                return;
            }
            var eta = _eta.After(value);
            long every = Math.Max(1, (value.TotalSteps + MaxStepLines - 1) / MaxStepLines);
            if (value.Step % every == 0 || value.Step == value.TotalSteps || value.Step == 1)
                output.WriteLine(ProgressFigures.Step(value, eta));
        }
    }
}
