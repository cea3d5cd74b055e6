namespace FineTune.MLNet.Tests.Llama2c;

/// <summary>
/// The original llama2.c files in <c>../shared/models/tinystories-260k</c> next to the repository (stories260K.bin,
/// tok512.bin), when present; tests that need them return early without them (the committed fixtures always run).
/// </summary>
internal static class Llama2cShared
{
    private static readonly Lazy<string?> s_dir = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "FineTune.MLNet.sln"))) continue;
            var shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            return Directory.Exists(shared) ? shared : null;
        }
        return null;
    });

    /// <summary>../shared, or null.</summary>
    public static string? Root => s_dir.Value;

    public static string? Checkpoint => Existing("models", "tinystories-260k", "stories260K.bin");

    public static string? Tokenizer => Existing("models", "tinystories-260k", "tok512.bin");

    public static string? Stories => Existing("data", "tinystories_sample", "stories.dev.txt");

    private static string? Existing(params string[] parts) =>
        Root is null ? null : Path.Combine([Root, .. parts]) is var p && File.Exists(p) ? p : null;

    /// <summary>The README facts: greedy ids from BOS (BOS first, then 40) and their text.</summary>
    public static readonly int[] GreedyIds =
        [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352];

    public const string GreedyText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, r";
}
