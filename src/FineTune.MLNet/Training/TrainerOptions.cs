using FineTune.MLNet.Modules;
using FineTune.MLNet.Training.Runs;

namespace FineTune.MLNet.Training;

/// <summary>Optimisation settings shared by the fine-tuning estimators.</summary>
public record TrainerOptions
{
    /// <summary>Passes over the training data. Range 1..1000.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Peak learning rate of AdamW. Range (0, 1].</summary>
    public double LearningRate { get; init; } = 5e-5;

    /// <summary>Examples per forward pass. Range 1..4096.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Forward passes whose gradients are summed before one optimizer step. Range 1..1024.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Global gradient-norm clip (L2); 0 turns clipping off. Must be ≥ 0.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Decoupled weight decay, not applied to biases and LayerNorm weights. Must be ≥ 0.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Fraction of all optimizer steps used for linear warmup. Range [0, 1).</summary>
    public double WarmupRatio { get; init; } = 0.1;

    /// <summary>Decay after warmup.</summary>
    public LearningRateDecay Decay { get; init; } = LearningRateDecay.Linear;

    /// <summary>Stop after this many epochs without a better validation loss and restore the best weights; null = never.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>Seed for weight init, dropout and data order: the same seed gives the same weights.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Torch device: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Folder for checkpoints; training resumes from its newest complete checkpoint. Null = no checkpoints.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Write a checkpoint every this many optimizer steps (and at each epoch end). Range ≥ 1.</summary>
    public int CheckpointEverySteps { get; init; } = 200;

    /// <summary>Checkpoints kept; older ones are deleted. Range ≥ 1.</summary>
    public int CheckpointsToKeep { get; init; } = 3;

    /// <summary>
    /// An optimizer step whose loss or gradient is NaN or infinite is skipped (gradients dropped, optimizer state
    /// untouched) and logged; this many in a row stop training with a <see cref="TrainingHaltedException"/>, leaving the
    /// last checkpoint as it was. Range 1..10000.
    /// </summary>
    public int MaxConsecutiveNonFiniteSteps { get; init; } = 5;

    /// <summary>Stop (as if cancelled, with a checkpoint) after this many optimizer steps in this call; null = run to the end.
    /// For staged training and resume tests.</summary>
    public long? StopAfterSteps { get; init; }

    /// <summary>Receives a report after each optimizer step and validation pass.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Run folder (config.json, metrics.jsonl, TensorBoard events) written during the fit; null = none.</summary>
    public RunFolderSettings? RunFolder { get; init; }

    /// <summary>Cancels training between steps.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Throws naming the first invalid field.</summary>
    public virtual void Validate()
    {
        Check(Epochs is >= 1 and <= 1000, nameof(Epochs), Epochs, "must be in 1..1000");
        Check(LearningRate > 0 && LearningRate <= 1, nameof(LearningRate), LearningRate, "must be in (0, 1]");
        Check(BatchSize is >= 1 and <= 4096, nameof(BatchSize), BatchSize, "must be in 1..4096");
        Check(GradientAccumulationSteps is >= 1 and <= 1024, nameof(GradientAccumulationSteps), GradientAccumulationSteps, "must be in 1..1024");
        Check(MaxGradNorm >= 0 && double.IsFinite(MaxGradNorm), nameof(MaxGradNorm), MaxGradNorm, "must be a finite number >= 0");
        Check(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "must be a finite number >= 0");
        Check(WarmupRatio is >= 0 and < 1, nameof(WarmupRatio), WarmupRatio, "must be in [0, 1)");
        Check(EarlyStoppingPatience is null or >= 1, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "must be >= 1 or null");
        Check(CheckpointEverySteps >= 1, nameof(CheckpointEverySteps), CheckpointEverySteps, "must be >= 1");
        Check(CheckpointsToKeep >= 1, nameof(CheckpointsToKeep), CheckpointsToKeep, "must be >= 1");
        Check(MaxConsecutiveNonFiniteSteps is >= 1 and <= 10000, nameof(MaxConsecutiveNonFiniteSteps), MaxConsecutiveNonFiniteSteps, "must be in 1..10000");
        Check(StopAfterSteps is null or >= 1, nameof(StopAfterSteps), StopAfterSteps, "must be >= 1 or null");
        RunFolder?.Validate();
        try { _ = TorchDevices.Parse(Device); }
        catch (ArgumentException e) { throw new ArgumentException($"{nameof(Device)}: {e.Message}", nameof(Device)); }
    }

    protected static void Check(bool ok, string field, object? value, string rule)
    {
        if (!ok) throw new ArgumentOutOfRangeException(field, value, $"{field} {rule} (got {value ?? "null"}).");
    }
}
