namespace FineTune.MLNet.ChatTemplates;

/// <summary>
/// Thrown when a chat template cannot be parsed, fails while rendering, or calls
/// <c>raise_exception(message)</c> (then <see cref="Exception.Message"/> is the template's own message
/// and <see cref="IsRaisedByTemplate"/> is true).
/// </summary>
public sealed class ChatTemplateException : Exception
{
    public ChatTemplateException(string message, int? line = null, int? column = null, bool isRaisedByTemplate = false)
        : base(line is null ? message : $"{message} (line {line}, column {column})")
    {
        Line = line;
        Column = column;
        IsRaisedByTemplate = isRaisedByTemplate;
    }

    /// <summary>1-based line in the template source where the problem was found, when known.</summary>
    public int? Line { get; }

    /// <summary>1-based column in the template source where the problem was found, when known.</summary>
    public int? Column { get; }

    /// <summary>True when the template itself called <c>raise_exception</c>.</summary>
    public bool IsRaisedByTemplate { get; }
}
