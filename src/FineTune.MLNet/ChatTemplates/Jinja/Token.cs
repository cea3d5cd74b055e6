namespace FineTune.MLNet.ChatTemplates.Jinja;

internal enum TokenKind
{
    Text,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    EndOfFile,
}

/// <summary>One lexical token with its 1-based source position.</summary>
internal readonly record struct Token(TokenKind Kind, string Value, int Line, int Column)
{
    public bool Is(TokenKind kind, string value) => Kind == kind && Value == value;

    public bool IsName(string name) => Kind == TokenKind.Name && Value == name;

    public bool IsOperator(string op) => Kind == TokenKind.Operator && Value == op;

    public string Describe() => Kind switch
    {
        TokenKind.EndOfFile => "end of template",
        TokenKind.VariableEnd => "'}}'",
        TokenKind.BlockEnd => "'%}'",
        TokenKind.Text => "template text",
        TokenKind.String => $"string '{Value}'",
        _ => $"'{Value}'",
    };
}
