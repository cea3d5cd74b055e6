namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// Recursive-descent parser from tokens to an AST, following Jinja's grammar and precedence:
/// conditional &lt; or &lt; and &lt; not &lt; comparison &lt; + - &lt; ~ &lt; * / // % &lt; ** &lt; unary
/// &lt; postfix (<c>.x</c>, <c>[i]</c>, <c>(...)</c>, <c>| filter</c>, <c>is test</c>).
/// This file: the token cursor and the statements (text, output, <c>if</c>, <c>for</c>, <c>set</c>, <c>macro</c>);
/// <c>ParserExpressions.cs</c>: the expressions, one method per precedence level.
/// </summary>
internal sealed partial class Parser
{
    private readonly List<Token> _tokens;
    private readonly int _maxDepth;
    private int _index;
    private int _depth;

    private Parser(List<Token> tokens, int maxDepth)
    {
        _tokens = tokens;
        _maxDepth = maxDepth;
    }

    /// <summary>Parses a template; blocks and expressions may nest <paramref name="maxDepth"/> levels (ChatTemplateLimits.MaxDepth).</summary>
    public static IReadOnlyList<Node> Parse(string source, int maxDepth = 64)
    {
        var parser = new Parser(Lexer.Tokenize(source), maxDepth);
        var body = parser.ParseBody(out string? endTag);
        if (endTag is not null)
        {
            throw parser.Error($"unexpected '{{% {endTag} %}}' with no open block", parser.Previous);
        }

        return body;
    }

    private Token Current => _tokens[_index];

    private Token Previous => _tokens[Math.Max(0, _index - 1)];

    private Token Next() => _tokens[_index++];

    /// <summary>Parses nodes until end of file or a block tag whose name is in <paramref name="stopAt"/>.</summary>
    private List<Node> ParseBody(out string? endTag, params string[] stopAt)
    {
        var nodes = new List<Node>();
        while (true)
        {
            Token token = Current;
            switch (token.Kind)
            {
                case TokenKind.EndOfFile:
                    endTag = null;
                    if (stopAt.Length > 0)
                    {
                        throw Error($"unexpected end of template: expected {string.Join(" or ", stopAt.Select(s => $"'{{% {s} %}}'"))}", token);
                    }

                    return nodes;
                case TokenKind.Text:
                    Next();
                    nodes.Add(new TextNode(token.Value, token.Line, token.Column));
                    break;
                case TokenKind.VariableBegin:
                    Next();
                    Expr value = ParseTupleOrExpression();
                    Expect(TokenKind.VariableEnd, "'}}'");
                    nodes.Add(new OutputNode(value, token.Line, token.Column));
                    break;
                case TokenKind.BlockBegin:
                    Token name = _tokens[_index + 1];
                    if (name.Kind == TokenKind.Name && stopAt.Contains(name.Value))
                    {
                        _index += 2;
                        endTag = name.Value;
                        return nodes;
                    }

                    Next();
                    nodes.Add(ParseStatement());
                    break;
                default:
                    throw Error($"unexpected {token.Describe()}", token);
            }
        }
    }

    /// <summary>One level deeper (a block or a sub-expression); dispose to come back up.</summary>
    private DepthScope Deeper(Token at)
    {
        if (++_depth > _maxDepth)
        {
            throw Error($"blocks or expressions nest deeper than MaxDepth = {_maxDepth}", at);
        }

        return new DepthScope(this);
    }

    private readonly struct DepthScope(Parser parser) : IDisposable
    {
        public void Dispose() => parser._depth--;
    }

    private Node ParseStatement()
    {
        using var nesting = Deeper(Current);
        Token keyword = Expect(TokenKind.Name, "a statement name such as 'if', 'for' or 'set'");
        switch (keyword.Value)
        {
            case "if":
                return ParseIf(keyword);
            case "for":
                return ParseFor(keyword);
            case "set":
                return ParseSet(keyword);
            case "macro":
                return ParseMacro(keyword);
            case "break":
                Expect(TokenKind.BlockEnd, "'%}'");
                return new BreakNode(keyword.Line, keyword.Column);
            case "continue":
                Expect(TokenKind.BlockEnd, "'%}'");
                return new ContinueNode(keyword.Line, keyword.Column);
            case "generation":
                Expect(TokenKind.BlockEnd, "'%}'");
                var body = ParseBody(out _, "endgeneration");
                Expect(TokenKind.BlockEnd, "'%}'");
                return new GenerationNode(body, keyword.Line, keyword.Column);
            default:
                throw Error($"unknown or unsupported tag '{keyword.Value}'", keyword);
        }
    }

    private IfNode ParseIf(Token keyword)
    {
        var branches = new List<IfBranch>();
        List<Node>? elseBody = null;
        Expr condition = ParseExpression();
        while (true)
        {
            Expect(TokenKind.BlockEnd, "'%}'");
            var body = ParseBody(out string? end, "elif", "else", "endif");
            branches.Add(new IfBranch(condition, body));
            if (end == "elif")
            {
                condition = ParseExpression();
                continue;
            }

            if (end == "else")
            {
                Expect(TokenKind.BlockEnd, "'%}'");
                elseBody = ParseBody(out _, "endif");
            }

            Expect(TokenKind.BlockEnd, "'%}'");
            return new IfNode(branches, elseBody, keyword.Line, keyword.Column);
        }
    }

    private ForNode ParseFor(Token keyword)
    {
        var targets = new List<string> { Expect(TokenKind.Name, "a loop variable name").Value };
        while (Current.IsOperator(","))
        {
            Next();
            targets.Add(Expect(TokenKind.Name, "a loop variable name").Value);
        }

        ExpectName("in");
        Expr iterable = ParseExpression(allowConditional: false);
        Expr? filter = null;
        if (Current.IsName("if"))
        {
            Next();
            filter = ParseExpression();
        }

        if (Current.IsName("recursive"))
        {
            throw Error("recursive for loops are not supported", Current);
        }

        Expect(TokenKind.BlockEnd, "'%}'");
        var body = ParseBody(out string? end, "else", "endfor");
        List<Node>? elseBody = null;
        if (end == "else")
        {
            Expect(TokenKind.BlockEnd, "'%}'");
            elseBody = ParseBody(out _, "endfor");
        }

        Expect(TokenKind.BlockEnd, "'%}'");
        return new ForNode(targets, iterable, filter, body, elseBody, keyword.Line, keyword.Column);
    }

    private Node ParseSet(Token keyword)
    {
        var targets = new List<string> { Expect(TokenKind.Name, "a variable name").Value };
        string? attribute = null;
        if (Current.IsOperator("."))
        {
            Next();
            attribute = Expect(TokenKind.Name, "an attribute name").Value;
        }
        else
        {
            while (Current.IsOperator(","))
            {
                Next();
                targets.Add(Expect(TokenKind.Name, "a variable name").Value);
            }
        }

        if (Current.Kind == TokenKind.BlockEnd && targets.Count == 1 && attribute is null)
        {
            Next();
            var body = ParseBody(out _, "endset");
            Expect(TokenKind.BlockEnd, "'%}'");
            return new SetBlockNode(targets[0], body, keyword.Line, keyword.Column);
        }

        ExpectOperator("=");
        Expr value = ParseTupleOrExpression();
        Expect(TokenKind.BlockEnd, "'%}'");
        return new SetNode(targets, attribute, value, keyword.Line, keyword.Column);
    }

    private MacroNode ParseMacro(Token keyword)
    {
        string name = Expect(TokenKind.Name, "a macro name").Value;
        ExpectOperator("(");
        var parameters = new List<MacroParameter>();
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0)
            {
                ExpectOperator(",");
            }

            string parameter = Expect(TokenKind.Name, "a parameter name").Value;
            Expr? defaultValue = null;
            if (Current.IsOperator("="))
            {
                Next();
                defaultValue = ParseExpression();
            }

            parameters.Add(new MacroParameter(parameter, defaultValue));
        }

        Next();
        Expect(TokenKind.BlockEnd, "'%}'");
        var body = ParseBody(out _, "endmacro");
        if (Current.Kind == TokenKind.Name)
        {
            Next(); // optional name after endmacro
        }

        Expect(TokenKind.BlockEnd, "'%}'");
        return new MacroNode(name, parameters, body, keyword.Line, keyword.Column);
    }

    private string ParseDottedName()
    {
        string name = Expect(TokenKind.Name, "a filter or test name").Value;
        while (Current.IsOperator(".") && _tokens[_index + 1].Kind == TokenKind.Name)
        {
            Next();
            name += "." + Next().Value;
        }

        return name;
    }

    // ---- Helpers ----

    private Token Expect(TokenKind kind, string what)
    {
        Token token = Current;
        if (token.Kind != kind)
        {
            throw Error($"unexpected {token.Describe()}: expected {what}", token);
        }

        return Next();
    }

    private void ExpectOperator(string op)
    {
        if (!Current.IsOperator(op))
        {
            throw Error($"unexpected {Current.Describe()}: expected '{op}'", Current);
        }

        Next();
    }

    private void ExpectName(string name)
    {
        if (!Current.IsName(name))
        {
            throw Error($"unexpected {Current.Describe()}: expected '{name}'", Current);
        }

        Next();
    }

    private ChatTemplateException Error(string message, Token at) =>
        new("Chat template syntax error: " + message, at.Line, at.Column);
}
