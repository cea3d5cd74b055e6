/// <summary>
/// The bundled TinyStories subset (<c>TinyStories/stories.txt</c>, CDLA-Sharing-1.0; see its README) split in a fixed
/// order: stories 1–200 train, 201–240 validation, 241–280 held-out requests, 281–360 general text (a forgetting check).
/// </summary>
public sealed record StoryCorpus(IReadOnlyList<string> Train, IReadOnlyList<string> Validation, IReadOnlyList<string> Test, IReadOnlyList<string> General)
{
    public const string Separator = "<|endoftext|>";

    /// <summary>All stories of the file, in order: text between <see cref="Separator"/> lines, trimmed, blanks dropped.</summary>
    public static IReadOnlyList<string> ReadStories(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The story file '{path}' does not exist.", path);
        var stories = File.ReadAllText(path).Split(Separator).Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        if (stories.Count == 0) throw new InvalidDataException($"{path} holds no story (stories are separated by lines of {Separator}).");
        return stories;
    }

    /// <summary>The standard split of the bundled file (360 stories).</summary>
    public static StoryCorpus Load(string path)
    {
        var all = ReadStories(path);
        if (all.Count < 360) throw new InvalidDataException($"{path} has {all.Count} stories; the demos expect the bundled 360.");
        return new StoryCorpus(all.Take(200).ToList(), all.Skip(200).Take(40).ToList(), all.Skip(240).Take(40).ToList(), all.Skip(280).Take(80).ToList());
    }

    /// <summary>The bundled file next to the running sample (copied by the sample's project file).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "TinyStories", "stories.txt");
}
