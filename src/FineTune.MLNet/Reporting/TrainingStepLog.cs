using System.Text.Json.Serialization;
using FineTune.MLNet.Training;

namespace FineTune.MLNet.Reporting;

/// <summary>One optimizer step or validation pass as the report plots it.</summary>
public sealed record StepLogEntry(
    [property: JsonPropertyName("step")] long Step,
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("loss"), JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double Loss,
    [property: JsonPropertyName("learning_rate")] double LearningRate,
    [property: JsonPropertyName("tokens_per_second")] double TokensPerSecond,
    [property: JsonPropertyName("validation_loss")] double? ValidationLoss,
    [property: JsonPropertyName("validation_accuracy")] double? ValidationAccuracy,
    [property: JsonPropertyName("validation_macro_f1")] double? ValidationMacroF1);

/// <summary>
/// Records every progress report of a run (training loss, learning rate and throughput per step; each validation pass)
/// and passes it on to an inner progress sink; its entries go into <c>metrics.json</c> as <c>steps</c> and
/// <c>validations</c>, which the run report plots.
/// </summary>
public sealed class TrainingStepLog(IProgress<TrainingProgress>? inner = null) : IProgress<TrainingProgress>
{
    private readonly object _gate = new();
    private readonly List<StepLogEntry> _steps = [];
    private readonly List<StepLogEntry> _validations = [];

    /// <summary>Training steps so far, in order (epoch 1-based).</summary>
    public IReadOnlyList<StepLogEntry> Steps { get { lock (_gate) return _steps.ToList(); } }

    /// <summary>Validation passes so far, in order (epoch 1-based).</summary>
    public IReadOnlyList<StepLogEntry> Validations { get { lock (_gate) return _validations.ToList(); } }

    /// <inheritdoc />
    public void Report(TrainingProgress value)
    {
        var entry = new StepLogEntry(value.Step, value.Epoch + 1, value.TrainLoss, value.LearningRate, value.TokensPerSecond,
            value.ValidationLoss, value.ValidationAccuracy, value.ValidationMacroF1);
        lock (_gate) (value.IsValidation ? _validations : _steps).Add(entry);
        inner?.Report(value);
    }

    /// <summary>
    /// Adds what the report reads beside a command's own metrics: <c>task</c>, <c>model</c>, <c>train_file</c>,
    /// <c>steps</c>, <c>validations</c> and <c>peak_rss_bytes</c> (read now, at the end of the run).
    /// </summary>
    public void AddTo(IDictionary<string, object?> metrics, string task, string model, string trainFile)
    {
        metrics["task"] = task;
        metrics["model"] = model;
        metrics["train_file"] = trainFile;
        metrics["steps"] = Steps;
        metrics["validations"] = Validations;
        metrics["peak_rss_bytes"] = PeakMemory.PeakRssBytes();
    }
}
