using System.Text;
using System.Text.RegularExpressions;

namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>A <c>tokenizer.json</c> decoder: turns token strings back into text, step by step on the token list
/// (<c>decode_chain</c>); the final text is the concatenation of what the chain returns.</summary>
internal abstract class HfDecoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    public string Decode(List<string> tokens) => string.Concat(DecodeChain(tokens));

    /// <summary><c>ByteLevel</c>: GPT-2 characters back to bytes, UTF-8 decoded lossily (invalid bytes become U+FFFD).</summary>
    public sealed class ByteLevel : HfDecoder
    {
        public override List<string> DecodeChain(List<string> tokens)
        {
            var bytes = new List<byte>();
            foreach (var token in tokens)
            {
                bool mapped = token.All(c => ByteLevelMapping.CharToByte.ContainsKey(c));
                if (mapped) foreach (char c in token) bytes.Add(ByteLevelMapping.CharToByte[c]);
                else bytes.AddRange(Encoding.UTF8.GetBytes(token)); // e.g. an added token with characters outside the table
            }
            return [Encoding.UTF8.GetString(bytes.ToArray())];
        }
    }

    /// <summary><c>Replace</c>: in each token, matches of a literal or regex become <c>content</c>.</summary>
    public sealed class Replace(Regex pattern, string content) : HfDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) =>
            tokens.Select(t => pattern.Replace(t, content.Replace("$", "$$"))).ToList();
    }

    /// <summary><c>ByteFallback</c>: runs of <c>&lt;0xNN&gt;</c> tokens become their UTF-8 text, or one U+FFFD per byte if invalid.</summary>
    public sealed class ByteFallback : HfDecoder
    {
        private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

        public override List<string> DecodeChain(List<string> tokens)
        {
            var output = new List<string>(tokens.Count);
            var pending = new List<byte>();
            void Flush()
            {
                if (pending.Count == 0) return;
                try { output.Add(Strict.GetString(pending.ToArray())); }
                catch (DecoderFallbackException) { output.Add(new string('\uFFFD', pending.Count)); }
                pending.Clear();
            }
            foreach (var token in tokens)
            {
                if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
                    && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
                {
                    pending.Add(b);
                    continue;
                }
                Flush();
                output.Add(token);
            }
            Flush();
            return output;
        }
    }

    /// <summary><c>Fuse</c>: all tokens into one string.</summary>
    public sealed class Fuse : HfDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
    }

    /// <summary><c>Strip</c>: removes up to <c>start</c> leading and <c>stop</c> trailing <c>content</c> characters of each token.</summary>
    public sealed class Strip(char content, int start, int stop) : HfDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) => tokens.Select(StripOne).ToList();

        private string StripOne(string token)
        {
            int from = 0, to = token.Length;
            while (from < Math.Min(start, token.Length) && token[from] == content) from++;
            while (token.Length - to < stop && to > from && token[to - 1] == content) to--;
            return token[from..to];
        }
    }

    /// <summary><c>Metaspace</c>: "▁" becomes a space; in the first token it is dropped unless <c>prepend_scheme</c> is never.</summary>
    public sealed class Metaspace(char replacement, MetaspacePrepend prepend) : HfDecoder
    {
        public override List<string> DecodeChain(List<string> tokens)
        {
            var output = new List<string>(tokens.Count);
            for (int i = 0; i < tokens.Count; i++)
            {
                bool dropFirst = i == 0 && prepend != MetaspacePrepend.Never;
                var sb = new StringBuilder(tokens[i].Length);
                foreach (char c in tokens[i])
                {
                    if (c != replacement) sb.Append(c);
                    else if (!dropFirst) sb.Append(' ');
                }
                output.Add(sb.ToString());
            }
            return output;
        }
    }

    /// <summary><c>Sequence</c>: each decoder's chain feeds the next.</summary>
    public sealed class Sequence(IReadOnlyList<HfDecoder> steps) : HfDecoder
    {
        public override List<string> DecodeChain(List<string> tokens)
        {
            foreach (var step in steps) tokens = step.DecodeChain(tokens);
            return tokens;
        }
    }

    /// <summary>No decoder in the file: HF joins the tokens with spaces.</summary>
    public sealed class JoinWithSpaces : HfDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) => [string.Join(' ', tokens)];
    }
}
