using static TorchSharp.torch;

namespace FineTune.MLNet.Formats.SafeTensors;

/// <summary>The safetensors dtype names this library reads and writes, and their TorchSharp types.</summary>
internal static class SafeTensorDTypes
{
    /// <summary>One dtype: its name in the header, torch type, bytes per element, and the rank the reference
    /// writer sorts by (the order of the Rust <c>Dtype</c> enum; higher ranks are written first).</summary>
    internal sealed record Entry(string Name, ScalarType Type, int ElementSize, int AlignmentRank);

    private static readonly Entry[] Entries =
    [
        new("BOOL", ScalarType.Bool, 1, 0),
        new("U8", ScalarType.Byte, 1, 4),
        new("I8", ScalarType.Int8, 1, 5),
        new("I16", ScalarType.Int16, 2, 9),
        new("F16", ScalarType.Float16, 2, 11),
        new("BF16", ScalarType.BFloat16, 2, 12),
        new("I32", ScalarType.Int32, 4, 13),
        new("F32", ScalarType.Float32, 4, 15),
        new("F64", ScalarType.Float64, 8, 17),
        new("I64", ScalarType.Int64, 8, 18),
    ];

    /// <summary>Names valid in the safetensors format that TorchSharp has no tensor type for.</summary>
    private static readonly HashSet<string> KnownUnsupported =
        ["U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"];

    internal static string SupportedList => string.Join(", ", Entries.Select(e => e.Name));

    internal static bool TryFromName(string name, out Entry entry)
    {
        foreach (var e in Entries)
        {
            if (e.Name == name)
            {
                entry = e;
                return true;
            }
        }
        entry = null!;
        return false;
    }

    /// <summary>Why <paramref name="name"/> cannot be read, for error messages.</summary>
    internal static string Unsupported(string name) => KnownUnsupported.Contains(name)
        ? $"dtype '{name}' is not supported (TorchSharp has no such tensor type); supported: {SupportedList}"
        : $"unknown dtype '{name}'; supported: {SupportedList}";

    internal static Entry FromTensorType(ScalarType type)
    {
        foreach (var e in Entries)
        {
            if (e.Type == type)
            {
                return e;
            }
        }
        throw new NotSupportedException(
            $"Tensors of type {type} cannot be stored in safetensors by this library; supported: {SupportedList}.");
    }
}
