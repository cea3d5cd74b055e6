namespace FineTune.MLNet.ChatTemplates.Jinja;

// ---- Statements (template body) ----

internal abstract record Node(int Line, int Column);

internal sealed record TextNode(string Text, int Line, int Column) : Node(Line, Column);

internal sealed record OutputNode(Expr Value, int Line, int Column) : Node(Line, Column);

internal sealed record IfBranch(Expr Condition, IReadOnlyList<Node> Body);

internal sealed record IfNode(IReadOnlyList<IfBranch> Branches, IReadOnlyList<Node>? Else, int Line, int Column) : Node(Line, Column);

/// <summary><c>{% for a, b in iter if cond %}body{% else %}empty{% endfor %}</c>.</summary>
internal sealed record ForNode(
    IReadOnlyList<string> Targets,
    Expr Iterable,
    Expr? Filter,
    IReadOnlyList<Node> Body,
    IReadOnlyList<Node>? Else,
    int Line,
    int Column) : Node(Line, Column);

/// <summary><c>{% set a = x %}</c>, <c>{% set a, b = x %}</c> or <c>{% set ns.attr = x %}</c> (then <see cref="Attribute"/> is set).</summary>
internal sealed record SetNode(IReadOnlyList<string> Targets, string? Attribute, Expr Value, int Line, int Column) : Node(Line, Column);

/// <summary><c>{% set a %}body{% endset %}</c>.</summary>
internal sealed record SetBlockNode(string Target, IReadOnlyList<Node> Body, int Line, int Column) : Node(Line, Column);

internal sealed record MacroParameter(string Name, Expr? Default);

internal sealed record MacroNode(string Name, IReadOnlyList<MacroParameter> Parameters, IReadOnlyList<Node> Body, int Line, int Column) : Node(Line, Column);

internal sealed record BreakNode(int Line, int Column) : Node(Line, Column);

internal sealed record ContinueNode(int Line, int Column) : Node(Line, Column);

/// <summary>transformers' <c>{% generation %}</c> tag: renders its body unchanged.</summary>
internal sealed record GenerationNode(IReadOnlyList<Node> Body, int Line, int Column) : Node(Line, Column);

// ---- Expressions ----

internal abstract record Expr(int Line, int Column);

internal sealed record LiteralExpr(object? Value, int Line, int Column) : Expr(Line, Column);

internal sealed record NameExpr(string Name, int Line, int Column) : Expr(Line, Column);

internal sealed record ListExpr(IReadOnlyList<Expr> Items, int Line, int Column) : Expr(Line, Column);

internal sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Pairs, int Line, int Column) : Expr(Line, Column);

/// <summary><c>obj.name</c>: Jinja tries the attribute, then the item.</summary>
internal sealed record AttributeExpr(Expr Target, string Name, int Line, int Column) : Expr(Line, Column);

/// <summary><c>obj[key]</c>: Jinja tries the item, then the attribute.</summary>
internal sealed record ItemExpr(Expr Target, Expr Key, int Line, int Column) : Expr(Line, Column);

internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line, int Column) : Expr(Line, Column);

internal sealed record CallExpr(Expr Callee, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs, int Line, int Column) : Expr(Line, Column);

internal sealed record FilterExpr(Expr Value, string Name, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs, int Line, int Column) : Expr(Line, Column);

internal sealed record TestExpr(Expr Value, string Name, IReadOnlyList<Expr> Args, bool Negated, int Line, int Column) : Expr(Line, Column);

/// <summary>Arithmetic: <c>+ - * / // % **</c> and <c>~</c> (string concatenation).</summary>
internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line, int Column) : Expr(Line, Column);

/// <summary><c>-x</c>, <c>+x</c> or <c>not x</c>.</summary>
internal sealed record UnaryExpr(string Op, Expr Operand, int Line, int Column) : Expr(Line, Column);

/// <summary><c>and</c> / <c>or</c> (short-circuit, Python value semantics).</summary>
internal sealed record LogicalExpr(string Op, Expr Left, Expr Right, int Line, int Column) : Expr(Line, Column);

/// <summary>Chained comparison <c>a &lt; b == c</c>; ops are <c>== != &lt; &lt;= &gt; &gt;= in notin</c>.</summary>
internal sealed record CompareExpr(Expr First, IReadOnlyList<(string Op, Expr Right)> Rest, int Line, int Column) : Expr(Line, Column);

/// <summary><c>a if cond else b</c>; a missing else yields undefined.</summary>
internal sealed record ConditionalExpr(Expr Then, Expr Condition, Expr? Else, int Line, int Column) : Expr(Line, Column);
