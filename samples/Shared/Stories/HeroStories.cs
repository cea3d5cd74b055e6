/// <summary>
/// The bundled hero stories (<c>TinyStories/hero-stories.txt</c>, CDLA-Sharing-1.0; see its README): 350 real stories,
/// alternately one whose first sentence introduces an animal hero and one that introduces a child (<see cref="HeroKinds"/>),
/// none of them in <see cref="StoryCorpus.General"/>. Split in file order, each split balanced: 250 train, 40 validation,
/// 60 held-out.
/// </summary>
public sealed record HeroStories(IReadOnlyList<string> Train, IReadOnlyList<string> Validation, IReadOnlyList<string> Test)
{
    public static HeroStories Load(string path)
    {
        var all = StoryCorpus.ReadStories(path);
        if (all.Count != 350) throw new InvalidDataException($"{path} has {all.Count} stories; the hero demo expects the bundled 350.");
        return new HeroStories(all.Take(250).ToList(), all.Skip(250).Take(40).ToList(), all.Skip(290).ToList());
    }

    /// <summary>All stories, in file order (the document frequencies of the requested words).</summary>
    public IReadOnlyList<string> All => [.. Train, .. Validation, .. Test];

    /// <summary>The bundled file next to the running sample (copied by the sample's project file).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "TinyStories", "hero-stories.txt");
}
