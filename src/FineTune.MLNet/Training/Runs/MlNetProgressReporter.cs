using Microsoft.ML.Runtime;

namespace FineTune.MLNet.Training.Runs;

/// <summary>
/// Feeds ML.NET's own progress channel (<see cref="IProgressChannelProvider.StartProgressChannel"/>) as its trainers
/// do: a header with the metrics <c>loss</c>, <c>learning_rate</c>, <c>validation_loss</c> and the unit <c>steps</c>,
/// and a fill action that ML.NET pulls whenever it asks for progress (the latest step of total, its loss and learning
/// rate). Each validation pass is also pushed as a checkpoint (all four values), as ML.NET trainers checkpoint at the end
/// of an iteration. Nothing happens when the environment does not provide progress channels.
/// </summary>
internal sealed class MlNetProgressReporter : IDisposable
{
    public static readonly string[] MetricNames = ["loss", "learning_rate", "validation_loss"];
    public static readonly string[] UnitNames = ["steps"];

    private readonly IProgressChannel? _channel;
    private readonly object _gate = new();
    private TrainingProgress? _lastStep;
    private double? _lastValidationLoss;

    public MlNetProgressReporter(IChannelProvider env, string name)
    {
        if (env is not IProgressChannelProvider provider) return;
        _channel = provider.StartProgressChannel(name);
        _channel.SetHeader(new ProgressHeader(MetricNames, UnitNames), Fill);
    }

    public void Report(TrainingProgress p)
    {
        if (_channel is null) return;
        lock (_gate)
        {
            if (!p.IsValidation)
            {
                _lastStep = p;
                return;
            }
            _lastValidationLoss = p.ValidationLoss;
        }
        _channel.Checkpoint(_lastStep?.TrainLoss, _lastStep?.LearningRate, p.ValidationLoss, p.Step, p.TotalSteps);
    }

    private void Fill(IProgressEntry entry)
    {
        lock (_gate)
        {
            if (_lastStep is not { } p) return;
            entry.SetProgress(0, p.Step, p.TotalSteps);
            entry.SetMetric(0, p.TrainLoss);
            entry.SetMetric(1, p.LearningRate);
            if (_lastValidationLoss is { } v) entry.SetMetric(2, v);
        }
    }

    public void Dispose() => _channel?.Dispose();
}
