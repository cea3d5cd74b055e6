using System.Text;
using System.Text.RegularExpressions;

namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>A <c>tokenizer.json</c> normalizer, applied to each text segment between added tokens.</summary>
internal abstract class HfNormalizer
{
    public abstract string Normalize(string text);

    /// <summary><c>Prepend</c>: puts <see cref="Prefix"/> before every non-empty segment (Llama-2's "▁").</summary>
    public sealed class Prepend(string prefix) : HfNormalizer
    {
        public string Prefix { get; } = prefix;
        public override string Normalize(string text) => text.Length == 0 ? text : Prefix + text;
    }

    /// <summary><c>Replace</c>: every match of a literal string or regex becomes <c>content</c>.</summary>
    public sealed class Replace(Regex pattern, string content) : HfNormalizer
    {
        public override string Normalize(string text) => pattern.Replace(text, content.Replace("$", "$$"));
    }

    /// <summary><c>NFC</c>, <c>NFD</c>, <c>NFKC</c>, <c>NFKD</c>.</summary>
    public sealed class Unicode(NormalizationForm form) : HfNormalizer
    {
        public override string Normalize(string text) => text.Normalize(form);
    }

    /// <summary><c>Lowercase</c>.</summary>
    public sealed class Lowercase : HfNormalizer
    {
        public override string Normalize(string text) => text.ToLowerInvariant();
    }

    /// <summary><c>Sequence</c>: each normalizer in order.</summary>
    public sealed class Sequence(IReadOnlyList<HfNormalizer> steps) : HfNormalizer
    {
        public override string Normalize(string text)
        {
            foreach (var step in steps) text = step.Normalize(text);
            return text;
        }
    }
}
