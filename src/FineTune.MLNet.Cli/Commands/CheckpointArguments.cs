using FineTune.MLNet.Training.Resume;
using System.CommandLine;
using FineTune.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// The crash-safe training options shared by <c>classify</c>, <c>sft</c> and <c>dpo</c> (<c>--checkpoint-dir</c>,
/// <c>--checkpoint-every</c>, <c>--keep-checkpoints</c>): re-running the same command resumes from the newest complete
/// checkpoint.
/// </summary>
internal sealed class CheckpointArguments
{
    public Option<DirectoryInfo?> Directory { get; } = new("--checkpoint-dir")
    {
        Description = "Folder for crash-safe checkpoints; running the same command again resumes from the newest complete one.",
    };

    public Option<int?> Every { get; } = new("--checkpoint-every") { Description = "Write a checkpoint every N optimizer steps (and at each epoch end). Default 200." };
    public Option<int> Keep { get; } = new("--keep-checkpoints") { Description = "Checkpoints kept; older ones are deleted.", DefaultValueFactory = _ => 3 };

    public IEnumerable<Option> All => [Directory, Every, Keep];

    /// <summary>The parsed values (validated by <see cref="Settings.Apply{T}"/>).</summary>
    public Settings Parse(ParseResult r) => new(r.GetValue(Directory), r.GetValue(Every), r.GetValue(Keep));

    /// <summary>Parsed checkpoint options.</summary>
    public sealed record Settings(DirectoryInfo? Directory, int? Every, int Keep)
    {
        /// <summary>Checks the option values alone (before any data is read); throws naming the option.</summary>
        public void CheckValues()
        {
            if (Every is < 1) throw new InvalidDataException($"--checkpoint-every: must be >= 1 (got {Every}).");
            if (Keep < 1) throw new InvalidDataException($"--keep-checkpoints: must be >= 1 (got {Keep}).");
            if (Directory is null && Every is not null) throw new InvalidDataException("--checkpoint-every needs --checkpoint-dir.");
        }

        /// <summary>
        /// Checks the values (<see cref="CheckValues"/>, then the folder writable: it is created when missing) and returns
        /// <paramref name="options"/> with them; a bad value throws naming the option.
        /// </summary>
        public T Apply<T>(T options) where T : TrainerOptions
        {
            CheckValues();
            if (Directory is null) return options;
            CheckWritable(Directory);
            return (T)(options with
            {
                CheckpointDirectory = Directory.FullName,
                CheckpointEverySteps = Every ?? options.CheckpointEverySteps,
                CheckpointsToKeep = Keep,
            });
        }

        private static void CheckWritable(DirectoryInfo dir)
        {
            for (var d = dir; d is not null; d = d.Parent)
            {
                if (File.Exists(d.FullName)) throw new InvalidDataException($"--checkpoint-dir: '{d.FullName}' is a file, not a folder.");
            }
            var probe = Path.Combine(dir.FullName, $".write-test-{Guid.NewGuid():N}");
            try
            {
                System.IO.Directory.CreateDirectory(dir.FullName);
                File.WriteAllBytes(probe, [1]);
                File.Delete(probe);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidDataException($"--checkpoint-dir: cannot write to '{dir.FullName}': {e.Message}", e);
            }
        }
    }

    /// <summary>Shows the training log's warnings (a damaged checkpoint, a skipped NaN step) and the resume notice on standard error.</summary>
    public static void ShowTrainingNotices(MLContext ml) =>
        ml.Log += (_, e) =>
        {
            if (e.Kind == ChannelMessageKind.Warning) Console.Error.WriteLine($"\rwarning: {e.RawMessage}");
            else if (e.Kind == ChannelMessageKind.Info && e.RawMessage.StartsWith(ResumeCheckpointStore.ResumeNotice, StringComparison.Ordinal)) Console.Error.WriteLine(e.RawMessage);
        };
}
