namespace FineTune.MLNet.Training.Resume;

/// <summary>
/// What stays in a checkpoint folder after a checkpoint is written: the newest <c>keep</c> complete checkpoints up to
/// the one just written. Leftovers of interrupted writes (temporary and trash folders) and checkpoints of a later step
/// (from before a fall-back to an older checkpoint, so of another history) are deleted. Folders named like a
/// checkpoint without a manifest are left alone: they are never loaded, but were not written by this code.
/// </summary>
internal static class ResumeCheckpointRetention
{
    public static void Prune(string directory, int keep, long writtenStep)
    {
        var complete = ResumeCheckpointStore.List(directory);
        var stale = complete.Where(d => ResumeCheckpointStore.StepOf(d) > writtenStep);
        var current = complete.Where(d => ResumeCheckpointStore.StepOf(d) <= writtenStep).ToList();
        var old = current.Take(Math.Max(0, current.Count - keep));
        var leftovers = Directory.GetDirectories(directory, ResumeCheckpointStore.TempPrefix + "*")
            .Concat(Directory.GetDirectories(directory, ResumeCheckpointStore.TrashPrefix + "*"))
            .ToList();
        var doomed = stale.Concat(old).Select(MoveToTrash).ToList();      // a kill mid-delete leaves a trash name, never a manifest-less checkpoint
        foreach (var folder in doomed.Concat(leftovers)) Directory.Delete(folder, recursive: true);
        Formats.DurableDirectory.Flush(directory);
    }

    private static string MoveToTrash(string checkpoint)
    {
        var trash = Path.Combine(Path.GetDirectoryName(checkpoint)!, $"{ResumeCheckpointStore.TrashPrefix}{Path.GetFileName(checkpoint)}-{Guid.NewGuid():N}");
        Directory.Move(checkpoint, trash);
        return trash;
    }
}
