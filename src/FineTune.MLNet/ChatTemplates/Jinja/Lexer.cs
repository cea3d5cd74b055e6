using System.Globalization;
using System.Text;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// Splits a Jinja template into tokens with the whitespace rules transformers uses
/// (<c>trim_blocks=True</c>, <c>lstrip_blocks=True</c>, <c>keep_trailing_newline=False</c>):
/// <list type="bullet">
/// <item><c>{%-</c>, <c>{{-</c>, <c>{#-</c> strip all whitespace before the tag; <c>-%}</c>, <c>-}}</c>, <c>-#}</c> strip all after it.</item>
/// <item>trim_blocks: one newline right after a block or comment tag is removed (<c>+%}</c> keeps it).</item>
/// <item>lstrip_blocks: spaces and tabs between the start of a line and a block or comment tag are removed (<c>{%+</c> keeps them).</item>
/// <item>Line endings are normalised to <c>\n</c> and one trailing newline of the source is dropped.</item>
/// </list>
/// End delimiters are only recognised outside brackets, as Jinja does, so <c>{{ {'a': {'b': 1}} }}</c> lexes.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Operators =
    [
        "//", "**", "==", "!=", "<=", ">=",
        "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}",
    ];

    private readonly string _source;
    private readonly List<int> _lineStarts = [0];
    private readonly List<Token> _tokens = [];
    private int _pos;

    private Lexer(string source)
    {
        _source = source;
        for (int i = 0; i < source.Length; i++)
        {
            if (source[i] == '\n')
            {
                _lineStarts.Add(i + 1);
            }
        }
    }

    public static List<Token> Tokenize(string source)
    {
        string normalized = source.Replace("\r\n", "\n").Replace('\r', '\n');
        if (normalized.EndsWith('\n'))
        {
            normalized = normalized[..^1];
        }

        var lexer = new Lexer(normalized);
        lexer.Run();
        return lexer._tokens;
    }

    private void Run()
    {
        bool stripNext = false;    // previous tag ended with '-'
        bool trimNewline = false;  // previous block/comment tag ended without '+' (trim_blocks)
        bool lineStarting = true;  // what was consumed after the previous tag ended with a newline

        while (true)
        {
            int tagStart = FindNextTag(_pos);
            int textEnd = tagStart < 0 ? _source.Length : tagStart;
            string text = _source[_pos..textEnd];
            int textOffset = _pos;

            if (stripNext)
            {
                string trimmed = text.TrimStart();
                lineStarting = trimmed.Length < text.Length && text[text.Length - trimmed.Length - 1] == '\n';
                textOffset += text.Length - trimmed.Length;
                text = trimmed;
            }
            else if (trimNewline && text.StartsWith('\n'))
            {
                text = text[1..];
                textOffset++;
                lineStarting = true;
            }

            if (tagStart < 0)
            {
                EmitText(text, textOffset);
                break;
            }

            char kind = _source[tagStart + 1]; // '{', '%' or '#'
            char sign = tagStart + 2 < _source.Length ? _source[tagStart + 2] : '\0';
            if (sign == '-')
            {
                text = text.TrimEnd();
            }
            else if (sign != '+' && kind != '{')
            {
                int lineStart = text.LastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && string.IsNullOrWhiteSpace(text[lineStart..]))
                {
                    text = text[..lineStart];
                }
            }

            EmitText(text, textOffset);
            int bodyStart = tagStart + 2 + (sign is '-' or '+' ? 1 : 0);

            char endSign;
            if (kind == '#')
            {
                int end = _source.IndexOf("#}", bodyStart, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw Error("unterminated comment '{#': expected '#}'", tagStart);
                }

                endSign = end > bodyStart && _source[end - 1] is '-' or '+' ? _source[end - 1] : '\0';
                _pos = end + 2;
            }
            else
            {
                bool isBlock = kind == '%';
                _tokens.Add(MakeToken(isBlock ? TokenKind.BlockBegin : TokenKind.VariableBegin, isBlock ? "{%" : "{{", tagStart));
                _pos = bodyStart;
                endSign = LexTagBody(isBlock, tagStart);
            }

            stripNext = endSign == '-';
            trimNewline = kind != '{' && endSign != '+';
            lineStarting = false;
        }

        _tokens.Add(MakeToken(TokenKind.EndOfFile, "", _source.Length));
    }

    private int FindNextTag(int from)
    {
        int i = from;
        while (true)
        {
            i = _source.IndexOf('{', i);
            if (i < 0 || i + 1 >= _source.Length)
            {
                return -1;
            }

            if (_source[i + 1] is '{' or '%' or '#')
            {
                return i;
            }

            i++;
        }
    }

    private void EmitText(string text, int offset)
    {
        if (text.Length > 0)
        {
            _tokens.Add(MakeToken(TokenKind.Text, text, offset));
        }
    }

    /// <summary>Lexes the expression tokens of a <c>{{ }}</c> or <c>{% %}</c> tag; returns the end sign ('-', '+' or '\0').</summary>
    private char LexTagBody(bool isBlock, int tagStart)
    {
        string end = isBlock ? "%}" : "}}";
        int depth = 0;
        while (true)
        {
            while (_pos < _source.Length && char.IsWhiteSpace(_source[_pos]))
            {
                _pos++;
            }

            if (_pos >= _source.Length)
            {
                throw Error($"unterminated tag: expected '{end}'", tagStart);
            }

            if (depth == 0)
            {
                foreach (char sign in "-+\0")
                {
                    string candidate = sign == '\0' ? end : sign + end;
                    if (sign == '+' && !isBlock)
                    {
                        continue;
                    }

                    if (string.CompareOrdinal(_source, _pos, candidate, 0, candidate.Length) == 0)
                    {
                        _tokens.Add(MakeToken(isBlock ? TokenKind.BlockEnd : TokenKind.VariableEnd, end, _pos));
                        _pos += candidate.Length;
                        return sign;
                    }
                }
            }

            char c = _source[_pos];
            int start = _pos;
            if (char.IsLetter(c) || c == '_')
            {
                while (_pos < _source.Length && (char.IsLetterOrDigit(_source[_pos]) || _source[_pos] == '_'))
                {
                    _pos++;
                }

                _tokens.Add(MakeToken(TokenKind.Name, _source[start.._pos], start));
            }
            else if (char.IsAsciiDigit(c))
            {
                LexNumber(start);
            }
            else if (c is '\'' or '"')
            {
                _tokens.Add(MakeToken(TokenKind.String, LexString(c, start), start));
            }
            else
            {
                string? op = Operators.FirstOrDefault(o => string.CompareOrdinal(_source, _pos, o, 0, o.Length) == 0)
                    ?? throw Error($"unexpected character '{c}' inside a tag", start);
                depth += op is "(" or "[" or "{" ? 1 : op is ")" or "]" or "}" ? -1 : 0;
                if (depth < 0)
                {
                    throw Error($"unbalanced '{op}'", start);
                }

                _pos += op.Length;
                _tokens.Add(MakeToken(TokenKind.Operator, op, start));
            }
        }
    }

    private void LexNumber(int start)
    {
        bool isFloat = false;
        SkipDigits();
        if (_pos + 1 < _source.Length && _source[_pos] == '.' && char.IsAsciiDigit(_source[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            SkipDigits();
        }

        if (_pos < _source.Length && _source[_pos] is 'e' or 'E')
        {
            int save = _pos;
            _pos++;
            if (_pos < _source.Length && _source[_pos] is '+' or '-')
            {
                _pos++;
            }

            if (_pos < _source.Length && char.IsAsciiDigit(_source[_pos]))
            {
                isFloat = true;
                SkipDigits();
            }
            else
            {
                _pos = save;
            }
        }

        string text = _source[start.._pos].Replace("_", "");
        _tokens.Add(MakeToken(isFloat ? TokenKind.Float : TokenKind.Integer, text, start));
    }

    private void SkipDigits()
    {
        while (_pos < _source.Length && (char.IsAsciiDigit(_source[_pos]) || _source[_pos] == '_'))
        {
            _pos++;
        }
    }

    /// <summary>Reads a quoted string and applies Python's escape rules (unknown escapes keep their backslash).</summary>
    private string LexString(char quote, int start)
    {
        var sb = new StringBuilder();
        _pos++;
        while (true)
        {
            if (_pos >= _source.Length)
            {
                throw Error("unterminated string literal", start);
            }

            char c = _source[_pos++];
            if (c == quote)
            {
                return sb.ToString();
            }

            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            if (_pos >= _source.Length)
            {
                throw Error("unterminated string literal", start);
            }

            char e = _source[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\n': break; // line continuation
                case 'x': sb.Append(ReadHexEscape(2, start)); break;
                case 'u': sb.Append(ReadHexEscape(4, start)); break;
                case 'U': sb.Append(ReadHexEscape(8, start)); break;
                default: sb.Append('\\').Append(e); break;
            }
        }
    }

    private string ReadHexEscape(int digits, int start)
    {
        if (_pos + digits > _source.Length
            || !int.TryParse(_source.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
        {
            throw Error($"bad \\x/\\u escape: expected {digits} hex digits", start);
        }

        _pos += digits;
        return char.ConvertFromUtf32(code);
    }

    private Token MakeToken(TokenKind kind, string value, int offset)
    {
        var (line, column) = Position(offset);
        return new Token(kind, value, line, column);
    }

    private (int Line, int Column) Position(int offset)
    {
        int index = _lineStarts.BinarySearch(offset);
        int line = index >= 0 ? index : ~index - 1;
        return (line + 1, offset - _lineStarts[line] + 1);
    }

    private ChatTemplateException Error(string message, int offset)
    {
        var (line, column) = Position(offset);
        return new ChatTemplateException("Chat template syntax error: " + message, line, column);
    }
}
