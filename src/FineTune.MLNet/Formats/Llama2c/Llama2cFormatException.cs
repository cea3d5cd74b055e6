namespace FineTune.MLNet.Formats.Llama2c;

/// <summary>
/// A llama2.c checkpoint or <c>tok*.bin</c> tokenizer is malformed (wrong magic or version, header fields that do not
/// fit the file size, truncation, trailing bytes, sizes that do not divide). The message names the file, the field and
/// what was expected; it is thrown before any large allocation.
/// </summary>
public sealed class Llama2cFormatException : FormatException
{
    public Llama2cFormatException(string file, string field, string problem)
        : base($"llama2.c file '{file}': {field}: {problem}")
    {
        File = file;
        Field = field;
    }

    /// <summary>The file at fault.</summary>
    public string File { get; }

    /// <summary>The header field or region at fault, e.g. <c>vocab_size</c>, <c>group_size</c>, <c>file size</c>.</summary>
    public string Field { get; }
}
