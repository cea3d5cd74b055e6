namespace FineTune.MLNet.Training;

/// <summary>
/// Training stopped before its end for a reason the caller must fix (disk full, a loss that keeps diverging). The last
/// complete checkpoint, if any, is intact: fix the cause and run again with the same checkpoint folder to resume.
/// </summary>
public class TrainingHaltedException : Exception
{
    public TrainingHaltedException(string message, string? lastCheckpoint, Exception? inner = null) : base(message, inner) =>
        LastCheckpoint = lastCheckpoint;

    /// <summary>Folder of the newest complete checkpoint when training stopped; null when none was written.</summary>
    public string? LastCheckpoint { get; }
}
