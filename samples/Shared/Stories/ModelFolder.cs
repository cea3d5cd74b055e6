/// <summary>The folder of a model given as a folder or as a bundled name.</summary>
public static class ModelFolder
{
    public static string Resolve(string model) =>
        Directory.Exists(model) ? model : throw new DirectoryNotFoundException($"Model '{model}' is not a folder (bundled-name lookup: TODO after merge).");
}
