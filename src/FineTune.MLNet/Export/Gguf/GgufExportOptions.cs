namespace FineTune.MLNet.Export.Gguf;

/// <summary>Options of <see cref="LlamaGgufExporter"/>.</summary>
public sealed record GgufExportOptions
{
    /// <summary>Weight type (default F16, as <c>convert_hf_to_gguf.py</c>).</summary>
    public GgufExportType Type { get; init; } = GgufExportType.F16;

    /// <summary><c>general.name</c>; null uses the model folder's name.</summary>
    public string? Name { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the invalid field.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Type)) throw new ArgumentException($"Type {(int)Type} is not a GgufExportType.", nameof(Type));
        if (Name is { Length: 0 }) throw new ArgumentException("Name must be null or non-empty.", nameof(Name));
    }
}
