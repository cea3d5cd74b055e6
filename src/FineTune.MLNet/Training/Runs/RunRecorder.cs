using System.Diagnostics;
using Microsoft.ML.Runtime;

namespace FineTune.MLNet.Training.Runs;

/// <summary>
/// Sits between the training loop and the caller's <see cref="IProgress{T}"/>: every report goes to ML.NET's progress
/// channel (<see cref="MlNetProgressReporter"/>) and, when <see cref="TrainerOptions.RunFolder"/> is set, to the run
/// folder (<c>config.json</c> written at the start, then <c>metrics.jsonl</c> and the TensorBoard event file, both
/// flushed per report), then to the caller. The estimators create one per fit.
/// </summary>
internal sealed class RunRecorder : IProgress<TrainingProgress>, IDisposable
{
    private readonly RunFolderSettings? _settings;
    private readonly IProgress<TrainingProgress>? _inner;
    private readonly MlNetProgressReporter _mlnet;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private MetricsJsonlWriter? _metrics;
    private TensorBoardEventWriter? _events;

    private RunRecorder(IChannelProvider env, string name, RunFolderSettings? settings, IProgress<TrainingProgress>? inner)
    {
        _settings = settings;
        _inner = inner;
        _mlnet = new MlNetProgressReporter(env, name);
    }

    /// <summary>Starts recording; with a run folder, creates it and writes <c>config.json</c> (the fingerprints are computed only then).</summary>
    public static RunRecorder Start(IChannelProvider env, string estimator, TrainerOptions options,
        Func<ModelFingerprint> model, Func<IReadOnlyList<DataFingerprint>> data, IProgress<TrainingProgress>? inner)
    {
        var recorder = new RunRecorder(env, estimator, options.RunFolder, inner);
        if (options.RunFolder is { } run)
        {
            Directory.CreateDirectory(run.Directory);
            RunConfigWriter.Write(run.Directory, estimator, options, model(), data(), run.CommandLine);
        }
        return recorder;
    }

    public void Report(TrainingProgress value)
    {
        _mlnet.Report(value);
        if (_settings is { } run)
        {
            lock (_gate)
            {
                if (_metrics is null) OpenFiles(run, value.Step);
                var elapsed = _metrics!.ElapsedBefore + _clock.Elapsed.TotalSeconds;
                _metrics.Write(value, elapsed);
                _events?.WriteScalars(DateTimeOffset.UtcNow, value.Step, RunScalars.Of(value));
            }
        }
        _inner?.Report(value);
    }

    /// <summary>On the first report (step <paramref name="firstStep"/>): metrics.jsonl keeps the lines before it; a fresh run
    /// (step 1) removes the event files of an earlier run in the folder, a resumed one marks its restart for TensorBoard.</summary>
    private void OpenFiles(RunFolderSettings run, long firstStep)
    {
        _metrics = new MetricsJsonlWriter(Path.Combine(run.Directory, MetricsJsonlWriter.FileName));
        _metrics.Open(firstStep);
        if (!run.TensorBoard) return;
        if (firstStep <= 1)
        {
            foreach (var old in Directory.EnumerateFiles(run.Directory, TensorBoardEventWriter.FilePrefix + "*")) File.Delete(old);
        }
        var now = DateTimeOffset.UtcNow;
        _events = new TensorBoardEventWriter(run.Directory, now);
        if (firstStep > 1) _events.WriteSessionStart(now, firstStep - 1);
    }

    public void Dispose()
    {
        _mlnet.Dispose();
        _metrics?.Dispose();
        _events?.Dispose();
    }
}
