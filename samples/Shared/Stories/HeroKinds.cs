using System.Text.RegularExpressions;

/// <summary>
/// Who a story's hero is, read from its first sentence: an <see cref="HeroKind.Animal"/> (an animal word and no child
/// word), a <see cref="HeroKind.Child"/> (girl, boy, child or kid and no animal word), or neither. The same rule selected
/// the bundled stories (<c>TinyStories/select_hero_stories.py</c> reads the word lists from this file) and scores the
/// generated ones.
/// </summary>
public static partial class HeroKinds
{
    /// <summary>Animal words (singular; a plural "s" of any hero word is stripped). Space-separated: the selection script parses this line.</summary>
    public const string AnimalWords = "animal cat dog bird bunny rabbit bear fish mouse frog duck lion puppy kitten fox owl elephant monkey squirrel pig cow horse turtle bee butterfly ant bug dinosaur tiger giraffe deer sheep goat chicken hen snake wolf penguin whale dolphin ladybug spider worm parrot zebra kangaroo koala panda crab shark seal hippo unicorn dragon lamb pony cub kitty";

    /// <summary>Child words. Space-separated: the selection script parses this line.</summary>
    public const string ChildWords = "girl boy child kid";

    private static readonly HashSet<string> Animals = [.. AnimalWords.Split(' ')];
    private static readonly HashSet<string> Children = [.. ChildWords.Split(' ')];

    /// <summary>Every hero word: the requests never name one as a word to use (that would give the hero away).</summary>
    public static IReadOnlySet<string> All { get; } = Animals.Concat(Children).ToHashSet();

    /// <summary>The hero of a text's first sentence (up to the first '.', '!' or '?').</summary>
    public static HeroKind Of(string text)
    {
        var end = text.IndexOfAny(['.', '!', '?']);
        var first = (end < 0 ? text : text[..end]).ToLowerInvariant();
        var words = Letters().Matches(first).Select(m => m.Value).Select(w => w.EndsWith('s') && All.Contains(w[..^1]) ? w[..^1] : w).ToHashSet();
        bool animal = words.Overlaps(Animals), child = words.Overlaps(Children);
        return animal && !child ? HeroKind.Animal : child && !animal ? HeroKind.Child : HeroKind.Neither;
    }

    [GeneratedRegex("[a-z]+")]
    private static partial Regex Letters();
}

public enum HeroKind { Neither, Animal, Child }
