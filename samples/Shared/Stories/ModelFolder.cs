using FineTune.MLNet.Models.Pretrained;

/// <summary>The folder of a model given as a folder or as a bundled name ("tinystories-260k").</summary>
public static class ModelFolder
{
    public static string Resolve(string model)
    {
        var folder = PretrainedDecoders.ResolveFolder(model);
        return Directory.Exists(folder) ? folder : throw new DirectoryNotFoundException($"--model '{model}' is neither a folder nor a bundled model ({string.Join(", ", PretrainedDecoders.Names)}).");
    }
}
