/// <summary>
/// The dialogue-following task, built from real stories: a story becomes the answer to "Write a story with dialogue
/// that uses the words X, Y and Z." when its characters talk (a double quote in it) and to "... without dialogue ..."
/// when they don't; the three words come from its opening as in <see cref="StoryRequests"/> (they make every request,
/// and so every greedy story, different). The base model cannot read "with" / "without dialogue": whether its story
/// has dialogue does not depend on the request. A model that follows the request writes dialogue exactly when asked.
/// </summary>
public static class DialogueRequests
{
    /// <summary>One request per story that has three requestable words (see <see cref="StoryRequests.Build"/>).</summary>
    public static IReadOnlyList<DialogueRequest> Build(IReadOnlyList<string> stories, IReadOnlyList<string> corpus) =>
        StoryRequests.Build(stories, corpus).Select(r => new DialogueRequest(HasDialogue(r.Story), r.Words, r.Story)).ToList();

    /// <summary>The prompt of a request.</summary>
    public static string Prompt(bool withDialogue, IReadOnlyList<string> words) =>
        $"Request: Write a story {(withDialogue ? "with" : "without")} dialogue that uses the words {string.Join(", ", words.Take(words.Count - 1))} and {words[^1]}.";

    /// <summary>Whether a text has dialogue: a double quote (TinyStories writes speech in straight double quotes).</summary>
    public static bool HasDialogue(string text) => text.Contains('"', StringComparison.Ordinal);

    /// <summary>How the texts answer the requests: how many of each kind were asked, how many of each have dialogue.</summary>
    public static DialogueCounts Count(IReadOnlyList<DialogueRequest> requests, IReadOnlyList<string> texts)
    {
        if (requests.Count != texts.Count) throw new ArgumentException($"{requests.Count} requests but {texts.Count} texts.", nameof(texts));
        int askedWith = 0, talkWhenAsked = 0, askedWithout = 0, talkWhenNot = 0;
        for (var i = 0; i < requests.Count; i++)
        {
            var talks = HasDialogue(texts[i]) ? 1 : 0;
            if (requests[i].WithDialogue) { askedWith++; talkWhenAsked += talks; }
            else { askedWithout++; talkWhenNot += talks; }
        }
        return new DialogueCounts(askedWith, talkWhenAsked, askedWithout, talkWhenNot);
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

/// <summary>A request (with or without dialogue, three words) with its reference story.</summary>
public sealed record DialogueRequest(bool WithDialogue, IReadOnlyList<string> Words, string Story) : IStoryRequest
{
    public string Prompt => DialogueRequests.Prompt(WithDialogue, Words);
}

/// <summary>
/// Dialogue in the texts by request kind. <see cref="Followed"/>: texts that have dialogue when asked for it and none
/// when asked for none; a model that ignores the request follows it half the time on a balanced set.
/// </summary>
public sealed record DialogueCounts(int AskedWith, int TalkWhenAsked, int AskedWithout, int TalkWhenNotAsked)
{
    public int Total => AskedWith + AskedWithout;
    public int Followed => TalkWhenAsked + (AskedWithout - TalkWhenNotAsked);
}
