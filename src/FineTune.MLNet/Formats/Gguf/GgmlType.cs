namespace FineTune.MLNet.Formats.Gguf;

/// <summary>
/// ggml tensor types (ids as in <c>ggml.h</c>). The reader knows the block layout of those listed here (so it can
/// check tensor sizes); <see cref="GgmlBlocks"/> dequantizes F32, F16, BF16, Q8_0 and Q4_0 and quantizes Q8_0 and Q4_0.
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
}

/// <summary>Block size (elements) and bytes per block of each <see cref="GgmlType"/> (ggml's <c>type_traits</c>).</summary>
public static class GgmlTypeInfo
{
    private static readonly Dictionary<GgmlType, (int BlockSize, int BlockBytes)> s_layout = new()
    {
        [GgmlType.F32] = (1, 4),
        [GgmlType.F16] = (1, 2),
        [GgmlType.Q4_0] = (32, 18),
        [GgmlType.Q4_1] = (32, 20),
        [GgmlType.Q5_0] = (32, 22),
        [GgmlType.Q5_1] = (32, 24),
        [GgmlType.Q8_0] = (32, 34),
        [GgmlType.Q8_1] = (32, 36),
        [GgmlType.Q2_K] = (256, 84),
        [GgmlType.Q3_K] = (256, 110),
        [GgmlType.Q4_K] = (256, 144),
        [GgmlType.Q5_K] = (256, 176),
        [GgmlType.Q6_K] = (256, 210),
        [GgmlType.Q8_K] = (256, 292),
        [GgmlType.I8] = (1, 1),
        [GgmlType.I16] = (1, 2),
        [GgmlType.I32] = (1, 4),
        [GgmlType.I64] = (1, 8),
        [GgmlType.F64] = (1, 8),
        [GgmlType.BF16] = (1, 2),
    };

    /// <summary>Whether the type id is one whose layout is known.</summary>
    public static bool IsKnown(GgmlType type) => s_layout.ContainsKey(type);

    /// <summary>Elements per block (1 for plain types, 32 for Q8_0/Q4_0, 256 for K-quants).</summary>
    public static int BlockSize(GgmlType type) => s_layout[type].BlockSize;

    /// <summary>Bytes per block.</summary>
    public static int BlockBytes(GgmlType type) => s_layout[type].BlockBytes;

    /// <summary>Bytes of <paramref name="elements"/> elements (a multiple of the block size); throws <see cref="OverflowException"/>.</summary>
    public static long ByteSize(GgmlType type, long elements) => checked(elements / BlockSize(type) * BlockBytes(type));
}
