using FineTune.MLNet.Training;
using Spectre.Console;

namespace FineTune.MLNet.Cli.Terminal;

/// <summary>
/// A Spectre.Console live progress display on its own thread: a bar with the percentage and the step's figures
/// (<see cref="ProgressFigures.Step"/>), redrawn after each step; after each evaluation a table of its metrics is
/// written above the bar. <see cref="Dispose"/> ends the display.
/// </summary>
/// <exception cref="InvalidOperationException">The display could not start (e.g. another live display owns the console).</exception>
internal sealed class LiveTrainingProgress : TrainingProgressView
{
    private readonly object _gate = new();
    private readonly IAnsiConsole _console;
    private readonly EtaClock _eta;
    private readonly ManualResetEventSlim _started = new();
    private readonly ManualResetEventSlim _finished = new();
    private readonly Thread _display;
    private ProgressContext? _context;
    private ProgressTask? _task;
    private int _disposed;
    private Exception? _failure;

    public LiveTrainingProgress(IAnsiConsole console, TimeProvider time)
    {
        _console = console;
        _eta = new EtaClock(time);
        _display = new Thread(Show) { IsBackground = true, Name = "finetune progress" };
        _display.Start();
        _started.Wait();
        if (_failure is not null)
        {
            _display.Join();
            throw new InvalidOperationException($"The live progress display could not start: {_failure.Message}", _failure);
        }
    }

    private void Show()
    {
        try
        {
            Run();
        }
        catch (Exception e)
        {
            _failure = e;   // before the start: the constructor throws it; later: reports are dropped (training goes on)
            _started.Set();
        }
    }

    private void Run()
    {
        new Progress(_console, TimeProvider.System)
            .AutoClear(false)
            .Columns(new ProgressBarColumn(), new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
            .Start(context =>
            {
                _context = context;
                _task = context.AddTask("starting", maxValue: 1);
                _started.Set();
                _finished.Wait();
                context.Refresh();
            });
    }

    public override void Report(TrainingProgress value)
    {
        lock (_gate)
        {
            if (_disposed != 0 || _failure is not null) return;
            if (value.IsValidation)
            {
                var table = new Table().Title($"epoch {value.Epoch + 1} evaluation").AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
                foreach (var (name, text) in ProgressFigures.Evaluation(value)) table.AddRow(Markup.Escape(name), Markup.Escape(text));
                _console.Write(table);
            }
            else
            {
                var eta = _eta.After(value);
                _task!.MaxValue = Math.Max(1, value.TotalSteps);
                _task.Value = value.Step;
                _task.Description = Markup.Escape(ProgressFigures.Step(value, eta));
            }
            _context!.Refresh();
        }
    }

    public override void Dispose()
    {
        lock (_gate)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        }
        _finished.Set();
        _display.Join();
        _started.Dispose();
        _finished.Dispose();
    }
}
