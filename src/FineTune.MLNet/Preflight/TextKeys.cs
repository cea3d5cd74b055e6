using System.Text;

namespace FineTune.MLNet.Preflight;

/// <summary>How texts are compared for duplicates: exactly, or after collapsing whitespace runs and lower-casing.</summary>
public static class TextKeys
{
    /// <summary>The text with whitespace runs collapsed to one space, trimmed, lower-cased (invariant).</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var key = new StringBuilder(text.Length);
        bool space = false;
        foreach (var c in text.Trim())
        {
            if (char.IsWhiteSpace(c)) { space = true; continue; }
            if (space) key.Append(' ');
            space = false;
            key.Append(char.ToLowerInvariant(c));
        }
        return key.ToString();
    }
}
