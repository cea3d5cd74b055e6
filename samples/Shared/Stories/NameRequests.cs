using System.Text.RegularExpressions;

/// <summary>
/// The name-following task, built from real stories: a story whose main character is introduced as "a girl named X" /
/// "a boy named X" becomes the answer to "Write a story about a girl named Y." with every whole-word X replaced by Y
/// (Y drawn, seeded, from the same gender's <see cref="Girls"/> / <see cref="Boys"/>, never X nor a pool name the story
/// already uses). The base model picks its heroes' names itself, so how often its story uses Y is the base rate; a model
/// that follows the request uses Y.
/// </summary>
public static partial class NameRequests
{
    /// <summary>Frequent TinyStories names (the pretrained model can write them).</summary>
    public static IReadOnlyList<string> Girls { get; } = ["Lily", "Lucy", "Amy", "Jane", "Mia", "Sue", "Sarah", "Anna", "Emma", "Molly"];
    public static IReadOnlyList<string> Boys { get; } = ["Tim", "Jack", "Tom", "Joe", "John", "Ben", "Max", "Sam", "Bob", "Jim"];

    /// <summary><paramref name="perStory"/> requests per story that introduces its main character by name (others are skipped).</summary>
    public static IReadOnlyList<NameRequest> Build(IReadOnlyList<string> stories, int perStory, int seed = 1)
    {
        if (perStory < 1) throw new ArgumentOutOfRangeException(nameof(perStory), perStory, "perStory must be >= 1.");
        var requests = new List<NameRequest>();
        for (var i = 0; i < stories.Count; i++)
        {
            var m = MainCharacter().Match(stories[i]);
            if (!m.Success) continue;
            var (gender, original) = (m.Groups[1].Value, m.Groups[2].Value);
            var pool = gender == "girl" ? Girls : Boys;
            var present = Names(stories[i]);
            var rng = new Random(seed * 100_003 + i);
            foreach (var name in pool.Where(n => n != original && !present.Contains(n)).OrderBy(_ => rng.Next()).Take(perStory))
                requests.Add(new NameRequest(gender, name, Regex.Replace(stories[i], $@"\b{original}\b", name)));
        }
        return requests;
    }

    /// <summary>The prompt of a request.</summary>
    public static string Prompt(string gender, string name) => $"Request: Write a story about a {gender} named {name}.";

    /// <summary>Whether <paramref name="text"/> uses <paramref name="name"/> as a whole word (case-sensitive: names are capitalised).</summary>
    public static bool Uses(string name, string text) => Names(text).Contains(name);

    /// <summary>How many of the texts use their request's name.</summary>
    public static int Followed(IReadOnlyList<NameRequest> requests, IReadOnlyList<string> texts)
    {
        if (requests.Count != texts.Count) throw new ArgumentException($"{requests.Count} requests but {texts.Count} texts.", nameof(texts));
        return requests.Where((r, i) => Uses(r.Name, texts[i])).Count();
    }

    /// <summary>95% Wilson score interval of k successes in n trials.</summary>
    public static (double Low, double High) Wilson(int k, int n)
    {
        if (n == 0) return (0, 1);
        const double z = 1.959964;
        double p = k / (double)n, d = 1 + z * z / n, c = (p + z * z / (2 * n)) / d, h = z * Math.Sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
        return (Math.Max(0, c - h), Math.Min(1, c + h));
    }

    private static HashSet<string> Names(string text) => WordPattern().Matches(text).Select(w => w.Value).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"\b(girl|boy) named ([A-Z][a-z]+)\b")]
    private static partial Regex MainCharacter();

    [GeneratedRegex("[A-Za-z]+")]
    private static partial Regex WordPattern();
}

/// <summary>A request (the hero's gender and name) with its reference story (a real story, hero renamed).</summary>
public sealed record NameRequest(string Gender, string Name, string Story) : IStoryRequest
{
    public string Prompt => NameRequests.Prompt(Gender, Name);
}
