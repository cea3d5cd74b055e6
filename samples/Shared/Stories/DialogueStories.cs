/// <summary>
/// The bundled dialogue stories (<c>TinyStories/dialogue-stories.txt</c>, CDLA-Sharing-1.0; see its README): 386 real
/// stories, alternately one WITH dialogue (a double quote within its first 45 words) and one WITHOUT (no double quote),
/// none of them in <see cref="StoryCorpus.General"/>. Split in file order, each split balanced: 266 train, 40 validation,
/// 80 held-out.
/// </summary>
public sealed record DialogueStories(IReadOnlyList<string> Train, IReadOnlyList<string> Validation, IReadOnlyList<string> Test)
{
    public static DialogueStories Load(string path)
    {
        var all = StoryCorpus.ReadStories(path);
        if (all.Count != 386) throw new InvalidDataException($"{path} has {all.Count} stories; the dialogue demo expects the bundled 386.");
        return new DialogueStories(all.Take(266).ToList(), all.Skip(266).Take(40).ToList(), all.Skip(306).ToList());
    }

    /// <summary>All stories, in file order (the document frequencies of the requested words).</summary>
    public IReadOnlyList<string> All => [.. Train, .. Validation, .. Test];

    /// <summary>The bundled file next to the running sample (copied by the sample's project file).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "TinyStories", "dialogue-stories.txt");
}
