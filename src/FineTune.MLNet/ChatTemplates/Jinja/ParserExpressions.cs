using System.Globalization;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>The expression half of <see cref="Parser"/>: one method per precedence level, lowest first.</summary>
internal sealed partial class Parser
{
    private static readonly HashSet<string> CompareOps = ["==", "!=", "<", "<=", ">", ">="];

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
            else if (Current.IsName("not") && _tokens[_index + 1].IsName("in"))
            {
                _index += 2;
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
        using var nesting = Deeper(token);
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
                return long.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long integer)
                    ? new LiteralExpr(integer, token.Line, token.Column)
                    : throw Error($"integer literal {token.Value} does not fit in 64 bits", token);
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
                    ? new ItemExpr(expr, new LiteralExpr(long.TryParse(name.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long at)
                        ? at : throw Error($"index {name.Value} does not fit in 64 bits", name), name.Line, name.Column), token.Line, token.Column)
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

            if (Current.Kind == TokenKind.Name && _tokens[_index + 1].IsOperator("="))
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
}
