using System.Diagnostics;
using System.Runtime.InteropServices;
using FineTune.MLNet.Training;

namespace FineTune.MLNet.Planning;

/// <summary>What a short calibration run measured.</summary>
/// <param name="Steps">Optimizer steps run.</param>
/// <param name="SecondsPerStep">Mean wall time of the steps after the first (the first includes warm-up); the first
/// step's own time when only one ran.</param>
/// <param name="PeakBytesAboveStart">Peak resident memory during the run minus the resident memory before it (VmHWM reset
/// first); null where <c>/proc</c> cannot tell.</param>
public sealed record CalibrationResult(int Steps, double SecondsPerStep, double? PeakBytesAboveStart);

/// <summary>
/// Runs a few real training steps (the caller fits the real estimator with <see cref="TrainerOptions.StopAfterSteps"/>
/// and this progress sink) and measures the time per step and the peak resident memory the run added.
/// </summary>
public static class Calibration
{
    /// <summary>Calls <paramref name="train"/> with a progress sink that timestamps each optimizer step.</summary>
    public static CalibrationResult Measure(Action<IProgress<TrainingProgress>> train)
    {
        ArgumentNullException.ThrowIfNull(train);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        ReturnFreedMemory();
        var start = MachineMemory.ResidentBytes();
        var peakKnown = MachineMemory.ResetPeak();
        var timer = new StepTimer();
        train(timer);
        var peak = MachineMemory.PeakBytes();
        var times = timer.StepSeconds;
        if (times.Count == 0) throw new InvalidOperationException("The calibration run took no optimizer step (no training rows?).");
        var perStep = times.Count > 1 ? times.Skip(1).Average() : times[0];
        double? added = peakKnown && start is { } s && peak is { } p ? Math.Max(0, p - s) : null;
        return new CalibrationResult(times.Count, perStep, added);
    }

    /// <summary>Hands freed heap pages back to the OS (glibc <c>malloc_trim</c>), so the next run's peak starts from what is live.</summary>
    public static void ReturnFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc: nothing to trim
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private sealed class StepTimer : IProgress<TrainingProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private double _last;

        public List<double> StepSeconds { get; } = [];

        public void Report(TrainingProgress value)
        {
            if (value.IsValidation) return;
            var now = _clock.Elapsed.TotalSeconds;
            StepSeconds.Add(now - _last);
            _last = now;
        }
    }
}
