namespace FineTune.MLNet.Quantization;

/// <summary>
/// Sizes of the NF4 storage of a tensor with <see cref="ElementCount"/> elements, in bitsandbytes' layout:
/// blocks of 64 weights with one absmax each, two 4-bit codes per byte (the last byte padded with the zero code
/// when the count is odd), and the absmax values double-quantized in blocks of 256.
/// </summary>
internal readonly record struct Nf4Layout(long ElementCount)
{
    /// <summary>Weights per absmax block (bitsandbytes' QLoRA default <c>blocksize=64</c>).</summary>
    public const int BlockSize = 64;

    /// <summary>Absmax values per second-level block (bitsandbytes' nested <c>blocksize=256</c>).</summary>
    public const int ScaleBlockSize = 256;

    /// <summary>Number of 64-weight blocks, the last one possibly partial: ceil(n / 64).</summary>
    public long BlockCount => CeilDiv(ElementCount, BlockSize);

    /// <summary>Bytes of packed 4-bit codes: ceil(n / 2).</summary>
    public long PackedByteCount => CeilDiv(ElementCount, 2);

    /// <summary>Number of 256-absmax second-level blocks: ceil(blocks / 256).</summary>
    public long ScaleBlockCount => CeilDiv(BlockCount, ScaleBlockSize);

    /// <summary>
    /// Bytes held: packed codes (1 byte per 2 weights) + 8-bit absmax codes (1 byte per block) + float32
    /// second-level scales (4 bytes per 256 blocks) + the float32 offset (4 bytes). The two code maps (16 and 256
    /// float32 values) are process-wide constants and not counted.
    /// </summary>
    public long StorageBytes => PackedByteCount + BlockCount + 4 * ScaleBlockCount + 4;

    public static Nf4Layout ForShape(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n *= d;
        }
        return new Nf4Layout(n);
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
