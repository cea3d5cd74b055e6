namespace FineTune.MLNet.Formats.Onnx;

/// <summary>Thrown when bytes are not a well-formed ONNX model of the subset this library reads or writes.</summary>
public sealed class OnnxFormatException : FormatException
{
    public OnnxFormatException(string message) : base(message) { }

    public OnnxFormatException(string message, Exception inner) : base(message, inner) { }
}
