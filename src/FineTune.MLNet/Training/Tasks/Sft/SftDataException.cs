namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// Thrown when supervised fine-tuning data cannot be turned into training sequences: a malformed chat-messages
/// row (the message names the row and the field), a chat template that is not prefix-stable, or a data set with
/// no supervised (response) tokens at all.
/// </summary>
public sealed class SftDataException : Exception
{
    public SftDataException(string message) : base(message) { }

    public SftDataException(string message, Exception inner) : base(message, inner) { }
}
