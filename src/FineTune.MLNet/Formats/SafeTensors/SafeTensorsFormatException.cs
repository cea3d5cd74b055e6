namespace FineTune.MLNet.Formats.SafeTensors;

/// <summary>A safetensors file (or a sharded checkpoint's index) is corrupt, hostile or not in the format.</summary>
public sealed class SafeTensorsFormatException : IOException
{
    public SafeTensorsFormatException(string filePath, string problem, Exception? inner = null)
        : base($"Invalid safetensors file '{filePath}': {problem}.", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file that was rejected.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the file name.</summary>
    public string Problem { get; }
}
