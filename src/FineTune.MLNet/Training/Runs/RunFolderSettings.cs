namespace FineTune.MLNet.Training.Runs;

/// <summary>
/// Where a fit writes its run folder: <c>config.json</c> (resolved options, library version, model and data
/// fingerprints), <c>metrics.jsonl</c> (one line per optimizer step and per evaluation) and TensorBoard event files
/// (<c>events.out.tfevents.*</c>) with the same scalars. Set <see cref="TrainerOptions.RunFolder"/> to turn it on.
/// </summary>
public sealed record RunFolderSettings
{
    /// <summary>The folder (created if missing). A run resumed from a checkpoint continues its <c>metrics.jsonl</c>.</summary>
    public string Directory { get; init; } = "";

    /// <summary>Also write TensorBoard event files. Default true.</summary>
    public bool TensorBoard { get; init; } = true;

    /// <summary>The command line that started the run (the CLI fills it), written to <c>config.json</c> as
    /// <c>command_line</c> so <c>finetune COMMAND --config config.json</c> repeats the run; null for API runs.</summary>
    public RunCommandLine? CommandLine { get; init; }

    /// <summary>Throws naming the invalid field.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
            throw new ArgumentException("RunFolder.Directory must name a folder.", nameof(Directory));
    }
}

/// <summary>A CLI invocation: the command path (<c>"classify"</c>, <c>"import gguf"</c>) and every option's resolved value
/// by flag name without dashes (null = not given and no default).</summary>
public sealed record RunCommandLine(string Command, IReadOnlyDictionary<string, object?> Arguments);
