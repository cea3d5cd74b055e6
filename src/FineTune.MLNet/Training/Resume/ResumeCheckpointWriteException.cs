namespace FineTune.MLNet.Training.Resume;

/// <summary>
/// A checkpoint could not be written (no space left, no permission, I/O error). The half-written folder was removed and
/// the previous checkpoint is untouched; <see cref="Exception.InnerException"/> holds the I/O error.
/// </summary>
public sealed class ResumeCheckpointWriteException(string message, string directory, string? lastCheckpoint, Exception inner)
    : TrainingHaltedException(message, lastCheckpoint, inner)
{
    /// <summary>The checkpoint folder (<see cref="TrainerOptions.CheckpointDirectory"/>).</summary>
    public string Directory { get; } = directory;

    /// <summary>True when the cause is a full disk or quota (ENOSPC / EDQUOT, Windows ERROR_DISK_FULL).</summary>
    public static bool IsDiskFull(IOException e) =>
        e.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027)
        || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("Disk quota", StringComparison.OrdinalIgnoreCase);
}
