/// <summary>
/// The hero-following task, built from real stories: a story whose first sentence introduces an animal becomes the
/// answer to "Write a story about an animal that uses the words X, Y and Z." (then a line break), one that introduces a child (girl, boy)
/// the answer to "... about a child ..."; the three words come from its opening as in <see cref="StoryRequests"/>,
/// never a hero word (they make every request, and so every greedy story, different). A model that follows the request
/// introduces the requested kind of hero in its first sentence; one that ignores it writes the same kind either way.
/// </summary>
public static class HeroRequests
{
    /// <summary>Text between the request and the story: a plain line break. (With "Request: ...\nStory: " the base model
    /// continues the "Re" of "Request" as a name, "Remy, what is that?", and never starts a story; after a plain
    /// sentence and a line break it writes a story.)</summary>
    public const string Separator = "\n";

    /// <summary>One request per story that has three requestable words (see <see cref="StoryRequests.Build"/>).</summary>
    public static IReadOnlyList<HeroRequest> Build(IReadOnlyList<string> stories, IReadOnlyList<string> corpus)
    {
        var requests = StoryRequests.Build(stories, corpus, exclude: HeroKinds.All)
            .Select(r => new HeroRequest(HeroKinds.Of(r.Story), r.Words, r.Story)).ToList();
        var odd = requests.FirstOrDefault(r => r.Hero == HeroKind.Neither);
        return odd is null ? requests : throw new InvalidDataException($"A story has neither an animal nor a child hero in its first sentence: '{odd.Story[..Math.Min(80, odd.Story.Length)]}...'.");
    }

    /// <summary>The prompt of a request.</summary>
    public static string Prompt(HeroKind hero, IReadOnlyList<string> words) =>
        $"Write a story about {(hero == HeroKind.Animal ? "an animal" : "a child")} that uses the words {string.Join(", ", words.Take(words.Count - 1))} and {words[^1]}.";

    /// <summary>The heroes of the texts by request kind.</summary>
    public static HeroCounts Count(IReadOnlyList<HeroRequest> requests, IReadOnlyList<string> texts)
    {
        if (requests.Count != texts.Count) throw new ArgumentException($"{requests.Count} requests but {texts.Count} texts.", nameof(texts));
        int askedAnimal = 0, animalWhenAsked = 0, childWhenAnimalAsked = 0, askedChild = 0, childWhenAsked = 0, animalWhenChildAsked = 0;
        for (var i = 0; i < requests.Count; i++)
        {
            var hero = HeroKinds.Of(texts[i]);
            if (requests[i].Hero == HeroKind.Animal) { askedAnimal++; animalWhenAsked += hero == HeroKind.Animal ? 1 : 0; childWhenAnimalAsked += hero == HeroKind.Child ? 1 : 0; }
            else { askedChild++; childWhenAsked += hero == HeroKind.Child ? 1 : 0; animalWhenChildAsked += hero == HeroKind.Animal ? 1 : 0; }
        }
        return new HeroCounts(askedAnimal, animalWhenAsked, childWhenAnimalAsked, askedChild, childWhenAsked, animalWhenChildAsked);
    }

    /// <summary>95% Wilson score interval of k successes in n trials.</summary>
    public static (double Low, double High) Wilson(int k, int n)
    {
        if (n == 0) return (0, 1);
        const double z = 1.959964;
        double p = k / (double)n, d = 1 + z * z / n, c = (p + z * z / (2 * n)) / d, h = z * Math.Sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
        return (Math.Max(0, c - h), Math.Min(1, c + h));
    }
}

/// <summary>A request (the kind of hero, three words) with its reference story.</summary>
public sealed record HeroRequest(HeroKind Hero, IReadOnlyList<string> Words, string Story) : IStoryRequest
{
    public string Prompt => HeroRequests.Prompt(Hero, Words);
}

/// <summary>
/// First-sentence heroes of the texts by request kind. <see cref="Followed"/>: texts whose hero is the requested kind.
/// A model that ignores the request writes the same kind for both requests; its animal rate when asked for an animal
/// equals its animal rate when asked for a child.
/// </summary>
public sealed record HeroCounts(int AskedAnimal, int AnimalWhenAsked, int ChildWhenAnimalAsked, int AskedChild, int ChildWhenAsked, int AnimalWhenChildAsked)
{
    public int Total => AskedAnimal + AskedChild;
    public int Followed => AnimalWhenAsked + ChildWhenAsked;
}
