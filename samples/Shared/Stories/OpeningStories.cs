/// <summary>
/// The bundled opening stories (<c>TinyStories/opening-stories.txt</c>, CDLA-Sharing-1.0; see its README): 661 real
/// stories whose first sentence opens "Once upon a time, there was a [up to three words] HERO", each written after a
/// line "hero: HERO" (the noun the pattern of <c>select_opening_stories.py</c> read), none of them in
/// <see cref="StoryCorpus.General"/>. The first line gives the split sizes: the file lists the training stories, then the
/// validation and the held-out ones (the held-out set: 6 girl, 4 boy, 35 other heroes that training also has, 15 that
/// no training story has).
/// </summary>
public sealed record OpeningStories(IReadOnlyList<HeroStory> Train, IReadOnlyList<HeroStory> Validation, IReadOnlyList<HeroStory> Test)
{
    public static OpeningStories Load(string path)
    {
        var records = StoryCorpus.ReadStories(path);
        var sizes = records[0].StartsWith("splits: ", StringComparison.Ordinal)
            ? records[0]["splits: ".Length..].Split(' ').Select(int.Parse).ToArray()
            : throw new InvalidDataException($"{path} must start with a line 'splits: TRAIN VALIDATION TEST'.");
        var stories = records.Skip(1).Select((r, i) => Parse(r, path, i)).ToList();
        if (sizes.Length != 3 || sizes.Sum() != stories.Count)
            throw new InvalidDataException($"{path}: the splits line ({records[0]}) does not add up to its {stories.Count} stories.");
        return new OpeningStories(stories.Take(sizes[0]).ToList(), stories.Skip(sizes[0]).Take(sizes[1]).ToList(), stories.Skip(sizes[0] + sizes[1]).ToList());
    }

    /// <summary>The heroes of the training stories (a held-out request for one of them asks for a hero seen in training).</summary>
    public IReadOnlySet<string> TrainingHeroes => Train.Select(s => s.Hero).ToHashSet();

    /// <summary>The bundled file next to the running sample (copied by the sample's project file).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "TinyStories", "opening-stories.txt");

    private static HeroStory Parse(string record, string path, int index)
    {
        var newline = record.IndexOf('\n');
        if (!record.StartsWith("hero: ", StringComparison.Ordinal) || newline < 0)
            throw new InvalidDataException($"{path}: story {index + 1} must start with a line 'hero: WORD'.");
        return new HeroStory(record["hero: ".Length..newline].Trim(), record[(newline + 1)..].Trim());
    }
}

/// <summary>A real story and the hero its first sentence introduces.</summary>
public sealed record HeroStory(string Hero, string Story);
