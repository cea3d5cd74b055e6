using System.Text.RegularExpressions;

/// <summary>
/// The instruction task built from the stories themselves: for each story, three of its content words become a request
/// "Write a story that uses the words X, Y and Z." whose reference answer is the story. Content words are words written
/// in lower case in the story's first <see cref="OpeningWords"/> words (no names), of four or more letters, not function
/// words, found in at most 20% of the corpus' stories (so the request says something specific); three are drawn per
/// story with a seeded generator and listed in story order.
/// </summary>
public static partial class StoryRequests
{
    /// <summary>Text between the request and the story (part of the prompt, so it carries no loss).</summary>
    public const string Separator = "\nStory: ";

    /// <summary>Requested words come from the story's first this many words (a 260K-parameter model learns to use them early).</summary>
    public const int OpeningWords = 40;

    private static readonly HashSet<string> FunctionWords = new(StringComparer.Ordinal)
    {
        "about", "after", "again", "also", "always", "away", "back", "because", "been", "before", "came", "come", "could",
        "didn", "does", "done", "down", "each", "even", "ever", "every", "from", "have", "here", "into", "just", "know",
        "knew", "like", "made", "make", "many", "more", "much", "must", "never", "next", "only", "once", "other", "over",
        "said", "says", "some", "soon", "still", "than", "that", "their", "them", "then", "there", "these", "they", "this",
        "those", "time", "upon", "very", "want", "wanted", "went", "were", "what", "when", "where", "which", "while",
        "will", "with", "would", "your", "yours", "around", "through", "really", "thing", "things", "felt", "feel",
    };

    /// <summary>One request per story; <paramref name="corpus"/> gives the document frequencies (all bundled stories);
    /// words in <paramref name="exclude"/> are never requested.</summary>
    public static IReadOnlyList<StoryRequest> Build(IReadOnlyList<string> stories, IReadOnlyList<string> corpus, int seed = 1, IReadOnlySet<string>? exclude = null)
    {
        var df = corpus.SelectMany(s => Words(s).Distinct()).GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());
        var maxDf = Math.Max(2, corpus.Count / 5);
        var requests = new List<StoryRequest>(stories.Count);
        for (var i = 0; i < stories.Count; i++)
        {
            var inOrder = WordPattern().Matches(stories[i]).Take(OpeningWords).Select(m => m.Value).Where(w => w == w.ToLowerInvariant()).Distinct()
                .Where(w => w.Length >= 4 && !FunctionWords.Contains(w) && exclude?.Contains(w) != true && df.GetValueOrDefault(w) <= maxDf).ToList();
            if (inOrder.Count < 3) continue;
            var rng = new Random(seed * 100_003 + i);
            var picked = inOrder.OrderBy(_ => rng.Next()).Take(3).ToHashSet();
            var words = inOrder.Where(picked.Contains).ToList();
            requests.Add(new StoryRequest(words, stories[i]));
        }
        return requests;
    }

    /// <summary>The prompt of a request.</summary>
    public static string Prompt(IReadOnlyList<string> words) =>
        $"Request: Write a story that uses the words {string.Join(", ", words.Take(words.Count - 1))} and {words[^1]}.";

    /// <summary>How many of <paramref name="words"/> occur in <paramref name="text"/> as whole words (case-insensitive).</summary>
    public static int Included(IReadOnlyList<string> words, string text)
    {
        var present = Words(text).ToHashSet();
        return words.Count(present.Contains);
    }

    /// <summary>Share of requested words that the texts contain, and share of texts that contain all of them.</summary>
    public static (double WordRate, double AllRate) InclusionRates(IReadOnlyList<StoryRequest> requests, IReadOnlyList<string> texts)
    {
        if (requests.Count != texts.Count) throw new ArgumentException($"{requests.Count} requests but {texts.Count} texts.", nameof(texts));
        var included = requests.Select((r, i) => Included(r.Words, texts[i])).ToList();
        return (included.Sum() / (double)requests.Sum(r => r.Words.Count), requests.Where((r, i) => included[i] == r.Words.Count).Count() / (double)requests.Count);
    }

    /// <summary>Lower-cased words of a text (letters only).</summary>
    public static IEnumerable<string> Words(string text) => WordPattern().Matches(text).Select(m => m.Value.ToLowerInvariant());

    [GeneratedRegex("[A-Za-z]+")]
    private static partial Regex WordPattern();
}

/// <summary>A request (three words) with its reference story.</summary>
public sealed record StoryRequest(IReadOnlyList<string> Words, string Story) : IStoryRequest
{
    public string Prompt => StoryRequests.Prompt(Words);
}
