using System.Text.Json.Serialization;

namespace FineTune.MLNet.Training;

/// <summary>
/// Where a run stands: enough to resume it exactly (with the model, optimizer and RNG tensors saved beside it).
/// Serialised as <c>trainer_state.json</c> inside a checkpoint folder.
/// </summary>
public sealed record TrainerState
{
    /// <summary>Optimizer steps taken.</summary>
    [JsonPropertyName("global_step")] public long GlobalStep { get; set; }

    /// <summary>Epoch in progress (0-based).</summary>
    [JsonPropertyName("epoch")] public int Epoch { get; set; }

    /// <summary>Index of the next batch of <see cref="Epoch"/> to train on.</summary>
    [JsonPropertyName("next_batch")] public int NextBatch { get; set; }

    /// <summary>Best validation loss so far (early stopping).</summary>
    [JsonPropertyName("best_validation_loss")] public double? BestValidationLoss { get; set; }

    /// <summary>Epochs since the best validation loss.</summary>
    [JsonPropertyName("epochs_without_improvement")] public int EpochsWithoutImprovement { get; set; }

    /// <summary>Tokens trained on (non-padding).</summary>
    [JsonPropertyName("tokens_seen")] public long TokensSeen { get; set; }

    /// <summary>Seed of the run; a resume with another seed is refused.</summary>
    [JsonPropertyName("seed")] public int Seed { get; set; }

    /// <summary>Total optimizer steps planned; a resume with other data or settings is refused.</summary>
    [JsonPropertyName("total_steps")] public long TotalSteps { get; set; }

    /// <summary>One line per finished epoch.</summary>
    [JsonPropertyName("history")] public List<EpochRecord> History { get; set; } = [];

    /// <summary>True once early stopping ended the run.</summary>
    [JsonPropertyName("stopped_early")] public bool StoppedEarly { get; set; }

    /// <summary>Sum of the finite step losses of the epoch in progress (its mean becomes the epoch's train loss).</summary>
    [JsonPropertyName("epoch_loss_sum")] public double EpochLossSum { get; set; }

    /// <summary>Finite optimizer steps summed into <see cref="EpochLossSum"/>.</summary>
    [JsonPropertyName("epoch_loss_count")] public int EpochLossCount { get; set; }

    /// <summary>Optimizer steps skipped because their loss or gradient was NaN or infinite.</summary>
    [JsonPropertyName("non_finite_steps")] public long NonFiniteSteps { get; set; }

    /// <summary>Skipped steps in a row up to now; training stops when it reaches <see cref="TrainerOptions.MaxConsecutiveNonFiniteSteps"/>.</summary>
    [JsonPropertyName("consecutive_non_finite_steps")] public int ConsecutiveNonFiniteSteps { get; set; }
}

/// <summary>Metrics of one finished epoch.</summary>
public sealed record EpochRecord(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("train_loss")] double TrainLoss,
    [property: JsonPropertyName("validation_loss")] double? ValidationLoss,
    [property: JsonPropertyName("validation_accuracy")] double? ValidationAccuracy,
    [property: JsonPropertyName("validation_macro_f1")] double? ValidationMacroF1);
