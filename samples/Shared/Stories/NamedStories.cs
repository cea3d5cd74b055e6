/// <summary>
/// The bundled named-hero stories (<c>TinyStories/named-stories.txt</c>, CDLA-Sharing-1.0; see its README): 348 stories
/// that introduce their main character as "a girl/boy named X", none of them in <see cref="StoryCorpus.General"/>.
/// Split in file order: 248 train, 40 validation, 60 held-out.
/// </summary>
public sealed record NamedStories(IReadOnlyList<string> Train, IReadOnlyList<string> Validation, IReadOnlyList<string> Test)
{
    public static NamedStories Load(string path)
    {
        var all = StoryCorpus.ReadStories(path);
        if (all.Count < 348) throw new InvalidDataException($"{path} has {all.Count} stories; the name demo expects the bundled 348.");
        return new NamedStories(all.Take(248).ToList(), all.Skip(248).Take(40).ToList(), all.Skip(288).Take(60).ToList());
    }

    /// <summary>The bundled file next to the running sample (copied by the sample's project file).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "TinyStories", "named-stories.txt");
}
