using FineTune.MLNet.Formats.Gguf;

namespace FineTune.MLNet.Export.Gguf;

/// <summary>Weight type of an exported GGUF (llama.cpp's <c>--outtype</c>); 1-D tensors always stay F32.</summary>
public enum GgufExportType
{
    /// <summary>Everything F32 (<c>general.file_type</c> 0).</summary>
    F32,

    /// <summary>2-D weights F16 (file type 1).</summary>
    F16,

    /// <summary>2-D weights Q8_0, F16 where a row does not divide into 32-value blocks (file type 7).</summary>
    Q8_0,

    /// <summary>2-D weights Q4_0, F16 where a row does not divide into 32-value blocks (file type 2).</summary>
    Q4_0,
}

/// <summary>Names, ggml types and file-type ids of <see cref="GgufExportType"/>.</summary>
public static class GgufExportTypes
{
    /// <summary>The command-line names: f32, f16, q8_0, q4_0.</summary>
    public static readonly IReadOnlyList<string> Names = ["f32", "f16", "q8_0", "q4_0"];

    /// <summary>Parses a command-line name (case-insensitive); throws naming the option otherwise.</summary>
    public static GgufExportType Parse(string name, string option = "--type") => name?.ToLowerInvariant() switch
    {
        "f32" => GgufExportType.F32,
        "f16" => GgufExportType.F16,
        "q8_0" => GgufExportType.Q8_0,
        "q4_0" => GgufExportType.Q4_0,
        _ => throw new ArgumentException($"{option}: '{name}' is not one of {string.Join(", ", Names)}.", option),
    };

    /// <summary>The ggml type of 2-D weights.</summary>
    public static GgmlType MatrixType(this GgufExportType type) => type switch
    {
        GgufExportType.F16 => GgmlType.F16,
        GgufExportType.Q8_0 => GgmlType.Q8_0,
        GgufExportType.Q4_0 => GgmlType.Q4_0,
        _ => GgmlType.F32,
    };

    /// <summary><c>general.file_type</c> (llama.cpp's <c>llama_ftype</c>: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7).</summary>
    public static uint FileType(this GgufExportType type) => type switch
    {
        GgufExportType.F16 => 1,
        GgufExportType.Q4_0 => 2,
        GgufExportType.Q8_0 => 7,
        _ => 0,
    };
}
