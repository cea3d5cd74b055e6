using System.Text.RegularExpressions;

namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>One piece of text on its way to the BPE model.</summary>
/// <param name="Text">The piece.</param>
/// <param name="AtOrigin">True when the piece starts at offset 0 of the input (Metaspace <c>prepend_scheme: first</c>).</param>
internal readonly record struct PreToken(string Text, bool AtOrigin);

/// <summary>How a <c>Split</c> pre-tokenizer treats the regex matches (<c>SplitDelimiterBehavior</c>).</summary>
internal enum SplitBehavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>A <c>tokenizer.json</c> pre-tokenizer: splits a normalized segment into words for the BPE model.</summary>
internal abstract class HfPreTokenizer
{
    public abstract void Split(PreToken piece, List<PreToken> output);

    /// <summary>GPT-2's split regex, used by <c>ByteLevel</c> with <c>use_regex: true</c>.</summary>
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary><c>Split</c>: regex split (Llama-3, Qwen2) with the given delimiter behaviour.</summary>
    public sealed class RegexSplit(Regex pattern, SplitBehavior behavior) : HfPreTokenizer
    {
        public override void Split(PreToken piece, List<PreToken> output)
        {
            string text = piece.Text;
            var parts = new List<(int Start, int End, bool IsMatch)>();
            int last = 0;
            for (var m = pattern.Match(text); m.Success; m = m.NextMatch())
            {
                if (m.Length == 0) continue;
                if (m.Index > last) parts.Add((last, m.Index, false));
                parts.Add((m.Index, m.Index + m.Length, true));
                last = m.Index + m.Length;
            }
            if (last < text.Length) parts.Add((last, text.Length, false));

            var spans = new List<(int Start, int End)>();
            for (int i = 0; i < parts.Count; i++)
            {
                var (start, end, isMatch) = parts[i];
                switch (behavior)
                {
                    case SplitBehavior.Removed when isMatch: continue;
                    case SplitBehavior.MergedWithPrevious when isMatch && spans.Count > 0 && !parts[i - 1].IsMatch:
                    case SplitBehavior.Contiguous when isMatch && spans.Count > 0 && parts[i - 1].IsMatch:
                        spans[^1] = (spans[^1].Start, end);
                        continue;
                    case SplitBehavior.MergedWithNext when !isMatch && spans.Count > 0 && parts[i - 1].IsMatch:
                        spans[^1] = (spans[^1].Start, end);
                        continue;
                }
                spans.Add((start, end));
            }
            foreach (var (start, end) in spans)
                output.Add(new PreToken(text[start..end], piece.AtOrigin && start == 0));
        }
    }

    /// <summary><c>ByteLevel</c>: optional prefix space, optional GPT-2 regex split, then bytes to GPT-2 characters.</summary>
    public sealed class ByteLevel(bool addPrefixSpace, bool useRegex) : HfPreTokenizer
    {
        private static readonly Regex Gpt2 = new(Gpt2Pattern, RegexOptions.Compiled);

        public override void Split(PreToken piece, List<PreToken> output)
        {
            string text = addPrefixSpace && !piece.Text.StartsWith(' ') ? " " + piece.Text : piece.Text;
            if (!useRegex) { output.Add(piece with { Text = ByteLevelMapping.Encode(text) }); return; }
            for (var m = Gpt2.Match(text); m.Success; m = m.NextMatch())
                if (m.Length > 0) output.Add(new PreToken(ByteLevelMapping.Encode(m.Value), piece.AtOrigin && m.Index == 0));
        }
    }

    /// <summary><c>Metaspace</c>: spaces become <c>replacement</c> ("▁"), prepended per <c>prepend_scheme</c>, optional split before each "▁".</summary>
    public sealed class Metaspace(char replacement, MetaspacePrepend prepend, bool split) : HfPreTokenizer
    {
        public override void Split(PreToken piece, List<PreToken> output)
        {
            string text = piece.Text.Replace(' ', replacement);
            bool addPrefix = prepend == MetaspacePrepend.Always || (prepend == MetaspacePrepend.First && piece.AtOrigin);
            if (addPrefix && !text.StartsWith(replacement)) text = replacement + text;
            if (!split) { output.Add(piece with { Text = text }); return; }
            int start = 0;
            for (int i = 1; i <= text.Length; i++)
            {
                if (i < text.Length && text[i] != replacement) continue;
                output.Add(new PreToken(text[start..i], piece.AtOrigin && start == 0));
                start = i;
            }
        }
    }

    /// <summary><c>Sequence</c>: each pre-tokenizer applied to every piece of the previous one.</summary>
    public sealed class Sequence(IReadOnlyList<HfPreTokenizer> steps) : HfPreTokenizer
    {
        public override void Split(PreToken piece, List<PreToken> output)
        {
            var current = new List<PreToken> { piece };
            foreach (var step in steps)
            {
                var next = new List<PreToken>();
                foreach (var p in current) step.Split(p, next);
                current = next;
            }
            output.AddRange(current);
        }
    }
}

/// <summary>Metaspace <c>prepend_scheme</c>.</summary>
internal enum MetaspacePrepend { Always, First, Never }
