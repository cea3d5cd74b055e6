using System.Globalization;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// Recursive-descent parser from tokens to an AST, following Jinja's grammar and precedence:
/// conditional &lt; or &lt; and &lt; not &lt; comparison &lt; + - &lt; ~ &lt; * / // % &lt; ** &lt; unary
/// &lt; postfix (<c>.x</c>, <c>[i]</c>, <c>(...)</c>, <c>| filter</c>, <c>is test</c>).
/// </summary>
internal sealed class Parser
{
    private static readonly HashSet<string> CompareOps = ["==", "!=", "<", "<=", ">", ">="];

    private readonly List<Token> tokens;
    private int index;

    private Parser(List<Token> tokens) => this.tokens = tokens;

    public static IReadOnlyList<Node> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        var body = parser.ParseBody(out string? endTag);
        if (endTag is not null)
        {
            throw parser.Error($"unexpected '{{% {endTag} %}}' with no open block", parser.Previous);
        }

        return body;
    }

    private Token Current => this.tokens[index];

    private Token Previous => this.tokens[Math.Max(0, index - 1)];

    private Token Next() => this.tokens[index++];

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
                    Token name = this.tokens[index + 1];
                    if (name.Kind == TokenKind.Name && stopAt.Contains(name.Value))
                    {
                        index += 2;
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

    private Node ParseStatement()
    {
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

    // ---- Expressions ----

    /// <summary>An expression, or a bare tuple <c>a, b</c> (as in <c>{% set x = 1, 2 %}</c>).</summary>
    private Expr ParseTupleOrExpression()
    {
        Token start = Current;
        Expr first = ParseExpression();
        if (!Current.IsOperator(","))
        {
            return first;
        }

        var items = new List<Expr> { first };
        while (Current.IsOperator(","))
        {
            Next();
            if (Current.Kind is TokenKind.BlockEnd or TokenKind.VariableEnd)
            {
                break;
            }

            items.Add(ParseExpression());
        }

        return new ListExpr(items, start.Line, start.Column);
    }

    private Expr ParseExpression(bool allowConditional = true)
    {
        Expr expr = ParseOr();
        while (allowConditional && Current.IsName("if"))
        {
            Token ifToken = Next();
            Expr condition = ParseOr();
            Expr? elseExpr = null;
            if (Current.IsName("else"))
            {
                Next();
                elseExpr = ParseExpression();
            }

            expr = new ConditionalExpr(expr, condition, elseExpr, ifToken.Line, ifToken.Column);
        }

        return expr;
    }

    private Expr ParseOr()
    {
        Expr left = ParseAnd();
        while (Current.IsName("or"))
        {
            Token op = Next();
            left = new LogicalExpr("or", left, ParseAnd(), op.Line, op.Column);
        }

        return left;
    }

    private Expr ParseAnd()
    {
        Expr left = ParseNot();
        while (Current.IsName("and"))
        {
            Token op = Next();
            left = new LogicalExpr("and", left, ParseNot(), op.Line, op.Column);
        }

        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            Token op = Next();
            return new UnaryExpr("not", ParseNot(), op.Line, op.Column);
        }

        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        Token start = Current;
        Expr first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOps.Contains(Current.Value))
            {
                string op = Next().Value;
                rest.Add((op, ParseMath1()));
            }
            else if (Current.IsName("in"))
            {
                Next();
                rest.Add(("in", ParseMath1()));
            }
            else if (Current.IsName("not") && this.tokens[index + 1].IsName("in"))
            {
                index += 2;
                rest.Add(("notin", ParseMath1()));
            }
            else
            {
                break;
            }
        }

        return rest.Count == 0 ? first : new CompareExpr(first, rest, start.Line, start.Column);
    }

    private Expr ParseMath1()
    {
        Expr left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            Token op = Next();
            left = new BinaryExpr(op.Value, left, ParseConcat(), op.Line, op.Column);
        }

        return left;
    }

    private Expr ParseConcat()
    {
        Expr left = ParseMath2();
        while (Current.IsOperator("~"))
        {
            Token op = Next();
            left = new BinaryExpr("~", left, ParseMath2(), op.Line, op.Column);
        }

        return left;
    }

    private Expr ParseMath2()
    {
        Expr left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            Token op = Next();
            left = new BinaryExpr(op.Value, left, ParsePow(), op.Line, op.Column);
        }

        return left;
    }

    private Expr ParsePow()
    {
        Expr left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            Token op = Next();
            left = new BinaryExpr("**", left, ParseUnary(withFilter: true), op.Line, op.Column);
        }

        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        Token token = Current;
        Expr expr;
        if (token.IsOperator("-") || token.IsOperator("+"))
        {
            Next();
            expr = new UnaryExpr(token.Value, ParseUnary(withFilter: false), token.Line, token.Column);
        }
        else
        {
            expr = ParsePostfix(ParsePrimary());
        }

        return withFilter ? ParseFilterAndTest(expr) : expr;
    }

    private Expr ParsePrimary()
    {
        Token token = Next();
        switch (token.Kind)
        {
            case TokenKind.Name:
                return token.Value switch
                {
                    "true" or "True" => new LiteralExpr(true, token.Line, token.Column),
                    "false" or "False" => new LiteralExpr(false, token.Line, token.Column),
                    "none" or "None" => new LiteralExpr(null, token.Line, token.Column),
                    _ => new NameExpr(token.Value, token.Line, token.Column),
                };
            case TokenKind.String:
                string text = token.Value;
                while (Current.Kind == TokenKind.String)
                {
                    text += Next().Value; // adjacent literals concatenate
                }

                return new LiteralExpr(text, token.Line, token.Column);
            case TokenKind.Integer:
                return new LiteralExpr(long.Parse(token.Value, CultureInfo.InvariantCulture), token.Line, token.Column);
            case TokenKind.Float:
                return new LiteralExpr(double.Parse(token.Value, CultureInfo.InvariantCulture), token.Line, token.Column);
            case TokenKind.Operator when token.Value == "(":
                return ParseParenthesized(token);
            case TokenKind.Operator when token.Value == "[":
                return new ListExpr(ParseSequence("]"), token.Line, token.Column);
            case TokenKind.Operator when token.Value == "{":
                return ParseDict(token);
            default:
                throw Error($"unexpected {token.Describe()}: expected an expression", token);
        }
    }

    private Expr ParseParenthesized(Token open)
    {
        if (Current.IsOperator(")"))
        {
            Next();
            return new ListExpr([], open.Line, open.Column);
        }

        Expr first = ParseExpression();
        if (Current.IsOperator(")"))
        {
            Next();
            return first;
        }

        var items = new List<Expr> { first };
        while (Current.IsOperator(","))
        {
            Next();
            if (Current.IsOperator(")"))
            {
                break;
            }

            items.Add(ParseExpression());
        }

        ExpectOperator(")");
        return new ListExpr(items, open.Line, open.Column);
    }

    private List<Expr> ParseSequence(string close)
    {
        var items = new List<Expr>();
        while (!Current.IsOperator(close))
        {
            if (items.Count > 0)
            {
                ExpectOperator(",");
                if (Current.IsOperator(close))
                {
                    break;
                }
            }

            items.Add(ParseExpression());
        }

        Next();
        return items;
    }

    private DictExpr ParseDict(Token open)
    {
        var pairs = new List<(Expr, Expr)>();
        while (!Current.IsOperator("}"))
        {
            if (pairs.Count > 0)
            {
                ExpectOperator(",");
                if (Current.IsOperator("}"))
                {
                    break;
                }
            }

            Expr key = ParseExpression();
            ExpectOperator(":");
            pairs.Add((key, ParseExpression()));
        }

        Next();
        return new DictExpr(pairs, open.Line, open.Column);
    }

    private Expr ParsePostfix(Expr expr)
    {
        while (true)
        {
            Token token = Current;
            if (token.IsOperator("."))
            {
                Next();
                Token name = Current.Kind is TokenKind.Name or TokenKind.Integer
                    ? Next()
                    : throw Error($"unexpected {Current.Describe()}: expected an attribute name after '.'", Current);
                expr = name.Kind == TokenKind.Integer
                    ? new ItemExpr(expr, new LiteralExpr(long.Parse(name.Value, CultureInfo.InvariantCulture), name.Line, name.Column), token.Line, token.Column)
                    : new AttributeExpr(expr, name.Value, token.Line, token.Column);
            }
            else if (token.IsOperator("["))
            {
                Next();
                expr = ParseSubscript(expr, token);
            }
            else if (token.IsOperator("("))
            {
                Next();
                var (args, kwargs) = ParseCallArguments();
                expr = new CallExpr(expr, args, kwargs, token.Line, token.Column);
            }
            else
            {
                return expr;
            }
        }
    }

    private Expr ParseSubscript(Expr target, Token open)
    {
        Expr? start = null, stop = null, step = null;
        if (!Current.IsOperator(":"))
        {
            start = ParseExpression();
            if (Current.IsOperator("]"))
            {
                Next();
                return new ItemExpr(target, start, open.Line, open.Column);
            }
        }

        ExpectOperator(":");
        if (!Current.IsOperator("]") && !Current.IsOperator(":"))
        {
            stop = ParseExpression();
        }

        if (Current.IsOperator(":"))
        {
            Next();
            if (!Current.IsOperator("]"))
            {
                step = ParseExpression();
            }
        }

        ExpectOperator("]");
        return new SliceExpr(target, start, stop, step, open.Line, open.Column);
    }

    private (List<Expr> Args, List<(string, Expr)> Kwargs) ParseCallArguments()
    {
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!Current.IsOperator(")"))
        {
            if (args.Count + kwargs.Count > 0)
            {
                ExpectOperator(",");
                if (Current.IsOperator(")"))
                {
                    break;
                }
            }

            if (Current.Kind == TokenKind.Name && this.tokens[index + 1].IsOperator("="))
            {
                string name = Next().Value;
                Next();
                kwargs.Add((name, ParseExpression()));
            }
            else if (kwargs.Count > 0)
            {
                throw Error("positional argument follows keyword argument", Current);
            }
            else
            {
                args.Add(ParseExpression());
            }
        }

        Next();
        return (args, kwargs);
    }

    private Expr ParseFilterAndTest(Expr expr)
    {
        while (true)
        {
            Token token = Current;
            if (token.IsOperator("|"))
            {
                Next();
                string name = ParseDottedName();
                List<Expr> args = [];
                List<(string, Expr)> kwargs = [];
                if (Current.IsOperator("("))
                {
                    Next();
                    (args, kwargs) = ParseCallArguments();
                }

                expr = new FilterExpr(expr, name, args, kwargs, token.Line, token.Column);
            }
            else if (token.IsName("is"))
            {
                Next();
                bool negated = false;
                if (Current.IsName("not"))
                {
                    Next();
                    negated = true;
                }

                string name = ParseDottedName();
                var args = new List<Expr>();
                if (Current.IsOperator("("))
                {
                    Next();
                    var (callArgs, _) = ParseCallArguments();
                    args.AddRange(callArgs);
                }
                else if (StartsBareTestArgument(Current))
                {
                    args.Add(ParsePostfix(ParsePrimary()));
                }

                expr = new TestExpr(expr, name, args, negated, token.Line, token.Column);
            }
            else if (token.IsOperator("("))
            {
                Next();
                var (args, kwargs) = ParseCallArguments();
                expr = new CallExpr(expr, args, kwargs, token.Line, token.Column);
            }
            else
            {
                return expr;
            }
        }
    }

    /// <summary>Jinja accepts one argument without parentheses: <c>x is divisibleby 3</c>, <c>x is sameas none</c>.</summary>
    private static bool StartsBareTestArgument(Token token) =>
        token.Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float
        || (token.Kind == TokenKind.Name && token.Value is not ("else" or "or" or "and" or "if" or "in" or "not" or "is"))
        || token.IsOperator("[") || token.IsOperator("{");

    private string ParseDottedName()
    {
        string name = Expect(TokenKind.Name, "a filter or test name").Value;
        while (Current.IsOperator(".") && this.tokens[index + 1].Kind == TokenKind.Name)
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
