using FineTune.MLNet.Training.Tasks.Sft;
using System.Text.RegularExpressions;

/// <summary>
/// The hero-following task, built from real stories: a story that opens "Once upon a time, there was a little dog ..."
/// answers the request "Write a story about a dog." (then a line break). A model that follows the request, given the
/// request and the story's common first words <see cref="Opening"/>, names the requested hero next; the base model,
/// which does not read requests, writes "a little girl" for every one (so it follows only the girl requests). The score
/// counts, per request, whether the first sentence of the continuation names the hero and whether the rest of the
/// story names it again (the story stays about it).
/// </summary>
public static partial class HeroRequests
{
    /// <summary>Text between the request and the story: a plain line break (after a plain sentence and a line break the
    /// base model writes a story; after "Request: ...\nStory: " it continued the "Re" as a name).</summary>
    public const string Separator = "\n";

    /// <summary>The first words of every evaluated story (all the bundled stories open so); the hero comes next.</summary>
    public const string Opening = "Once upon a time, there was";

    /// <summary>One request per story; with <paramref name="fitTo"/>, each story is cut at a word boundary to the longest
    /// opening whose training example (request, separator, story) fits the builder's MaxLength, so that no example is cut
    /// mid-word by SFT truncation (which keeps the request and cuts a long response at its end).</summary>
    public static IReadOnlyList<HeroRequest> Build(IReadOnlyList<HeroStory> stories, SftExampleBuilder? fitTo = null) =>
        stories.Select(s => new HeroRequest(s.Hero, fitTo is null ? s.Story : CutToFit(fitTo, Prompt(s.Hero), s.Story))).ToList();

    /// <summary>The longest opening of <paramref name="story"/>, cut before a whitespace, whose example with
    /// <paramref name="prompt"/> is not truncated.</summary>
    public static string CutToFit(SftExampleBuilder builder, string prompt, string story)
    {
        if (!builder.FromPair(prompt, story).Truncated) return story;
        var cuts = Whitespace().Matches(story).Select(m => m.Index).ToList();
        int low = -1, high = cuts.Count;   // cuts[low] fits (or -1: none found yet), cuts[high] does not
        while (high - low > 1)
        {
            var mid = (low + high) / 2;
            if (builder.FromPair(prompt, story[..cuts[mid]]).Truncated) high = mid; else low = mid;
        }
        return low >= 0 ? story[..cuts[low]] : throw new ArgumentException($"Not even the first word of the story fits after the prompt '{prompt}' (MaxLength too small).", nameof(builder));
    }

    /// <summary>The request for a hero: "Write a story about a dog." / "... an elephant."</summary>
    public static string Prompt(string hero) => $"Write a story about {("aeiou".Contains(hero[0]) ? "an" : "a")} {hero}.";

    /// <summary>Whether a continuation of <see cref="Opening"/> names <paramref name="hero"/> in its first sentence, and
    /// again after it (whole words, case-insensitive, a plural "s" allowed).</summary>
    public static (bool Named, bool Again) Follows(string hero, string continuation)
    {
        var end = continuation.IndexOfAny(['.', '!', '?']);
        var (first, rest) = end < 0 ? (continuation, "") : (continuation[..end], continuation[(end + 1)..]);
        return (Names(first, hero), Names(rest, hero));
    }

    /// <summary>Counts over held-out requests, split into girl / boy requests, other heroes seen in training, and unseen ones.</summary>
    public static HeroCounts Count(IReadOnlyList<HeroRequest> requests, IReadOnlyList<string> continuations, IReadOnlySet<string> trainingHeroes)
    {
        if (requests.Count != continuations.Count) throw new ArgumentException($"{requests.Count} requests but {continuations.Count} continuations.", nameof(continuations));
        var c = new int[3, 3];   // [group: girl/boy, seen, unseen; total, named, named again]
        for (var i = 0; i < requests.Count; i++)
        {
            var hero = requests[i].Hero;
            var g = hero is "girl" or "boy" ? 0 : trainingHeroes.Contains(hero) ? 1 : 2;
            var (named, again) = Follows(hero, continuations[i]);
            c[g, 0]++;
            c[g, 1] += named ? 1 : 0;
            c[g, 2] += named && again ? 1 : 0;
        }
        return new HeroCounts(new(c[0, 0], c[0, 1], c[0, 2]), new(c[1, 0], c[1, 1], c[1, 2]), new(c[2, 0], c[2, 1], c[2, 2]));
    }

    /// <summary>95% Wilson score interval of k successes in n trials.</summary>
    public static (double Low, double High) Wilson(int k, int n)
    {
        if (n == 0) return (0, 1);
        const double z = 1.959964;
        double p = k / (double)n, d = 1 + z * z / n, c = (p + z * z / (2 * n)) / d, h = z * Math.Sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
        return (Math.Max(0, c - h), Math.Min(1, c + h));
    }

    private static bool Names(string text, string hero) =>
        Letters().Matches(text.ToLowerInvariant()).Any(m => m.Value == hero || m.Value == hero + "s" || m.Value == hero + "es");

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex("[a-z]+")]
    private static partial Regex Letters();
}

/// <summary>A request for a hero with its reference story.</summary>
public sealed record HeroRequest(string Hero, string Story) : IStoryRequest
{
    public string Prompt => HeroRequests.Prompt(Hero);
}

/// <summary>Requests of one group, how many continuations named the hero in the first sentence, and how many also later.</summary>
public sealed record HeroGroup(int Total, int Named, int NamedAgain);

/// <summary>The task counts by group: girl / boy requests (what the base writes anyway), other heroes seen in training, unseen heroes.</summary>
public sealed record HeroCounts(HeroGroup GirlBoy, HeroGroup Seen, HeroGroup Unseen)
{
    public int Total => GirlBoy.Total + Seen.Total + Unseen.Total;
    public int Named => GirlBoy.Named + Seen.Named + Unseen.Named;
    public int NamedAgain => GirlBoy.NamedAgain + Seen.NamedAgain + Unseen.NamedAgain;
}
