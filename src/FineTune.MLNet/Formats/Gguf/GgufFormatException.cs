namespace FineTune.MLNet.Formats.Gguf;

/// <summary>
/// A GGUF file is malformed or hostile (truncated, counts or lengths larger than the file, bad alignment, tensor data
/// outside the file, ...). The message names the file and the field; <see cref="Field"/> holds the field alone.
/// The reader throws only this type for bad bytes, whatever they are.
/// </summary>
public sealed class GgufFormatException : FormatException
{
    public GgufFormatException(string file, string field, string problem)
        : base($"GGUF file '{file}': {field}: {problem}")
    {
        File = file;
        Field = field;
    }

    /// <summary>The file (path or the name given to <see cref="GgufFile.Read(byte[], string)"/>).</summary>
    public string File { get; }

    /// <summary>The header field at fault, e.g. <c>tensor_count</c>, <c>metadata["general.alignment"]</c>, <c>tensors[3].offset</c>.</summary>
    public string Field { get; }
}
