using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Quantization;

/// <summary>
/// A tensor stored in QLoRA's 4-bit NormalFloat format with double-quantized scales, laid out as bitsandbytes
/// stores it (<c>quantize_4bit(W, blocksize=64, compress_statistics=True, quant_type="nf4")</c>):
/// <list type="bullet">
/// <item><see cref="PackedCodes"/>: uint8, (ceil(n/2)); the flattened tensor in blocks of 64, each value divided
/// by its block's absmax and rounded to the nearest <see cref="Nf4Codebook"/> code; two codes per byte, the
/// first element in the high nibble.</item>
/// <item><see cref="AbsmaxCodes"/>, <see cref="AbsmaxScales"/>, <see cref="AbsmaxOffset"/>: the per-block absmax,
/// double-quantized (see <c>AbsmaxDoubleQuantizer</c>): uint8 (blocks), float32 (ceil(blocks/256)), float32 (1).</item>
/// </list>
/// About 0.5159 bytes per element for large tensors (0.5 + 1/64 + 4/(64*256)), against 4 for float32.
/// All tensors live on the device of the quantized input; nothing here moves data between devices.
/// </summary>
/// <remarks>
/// One deliberate difference from bitsandbytes: an all-zero block (absmax 0) is stored with the zero code (7).
/// bitsandbytes divides by the zero absmax and stores code 0 (-1.0); both dequantize to zeros.
/// </remarks>
public sealed class Nf4Tensor : IDisposable
{
    /// <summary>Weights per absmax block.</summary>
    public const int BlockSize = Nf4Layout.BlockSize;

    /// <summary>Absmax values per second-level (double-quantization) block.</summary>
    public const int ScaleBlockSize = Nf4Layout.ScaleBlockSize;

    private readonly Nf4Layout _layout;
    private readonly long[] _shape;

    /// <summary>
    /// Wraps already-quantized storage (for example tensors loaded from a checkpoint) and takes ownership of it.
    /// Throws when a dtype, size or device does not match the layout of <paramref name="shape"/>.
    /// </summary>
    public Nf4Tensor(Tensor packedCodes, Tensor absmaxCodes, Tensor absmaxScales, Tensor absmaxOffset, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        _shape = (long[])shape.Clone();
        _layout = Nf4Layout.ForShape(_shape);
        ValidateStorage(packedCodes, absmaxCodes, absmaxScales, absmaxOffset, _layout, nameof(Nf4Tensor));
        PackedCodes = packedCodes;
        AbsmaxCodes = absmaxCodes;
        AbsmaxScales = absmaxScales;
        AbsmaxOffset = absmaxOffset;
    }

    /// <summary>Packed 4-bit codes, uint8, (ceil(n/2)); first element of each pair in the high nibble.</summary>
    public Tensor PackedCodes { get; }

    /// <summary>8-bit dynamic-map codes of the centered absmax values, uint8, (blocks).</summary>
    public Tensor AbsmaxCodes { get; }

    /// <summary>Second-level scales (absmax of each 256 centered absmax values), float32, (ceil(blocks/256)).</summary>
    public Tensor AbsmaxScales { get; }

    /// <summary>Mean of the absmax values, subtracted before their quantization, float32, (1).</summary>
    public Tensor AbsmaxOffset { get; }

    /// <summary>Shape of the original tensor.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>Number of elements of the original tensor.</summary>
    public long ElementCount => _layout.ElementCount;

    /// <summary>Number of 64-element blocks (the last one possibly partial).</summary>
    public long BlockCount => _layout.BlockCount;

    /// <summary>
    /// Bytes held: packed codes + 8-bit absmax codes + float32 second-level scales + float32 offset
    /// (the constant 16- and 256-entry code maps are not counted).
    /// </summary>
    public long StorageBytes => _layout.StorageBytes;

    /// <summary><see cref="StorageBytes"/> / <see cref="ElementCount"/>; 0.515869... for a 4096x4096 weight.</summary>
    public double BytesPerParameter => (double)StorageBytes / ElementCount;

    /// <summary>Device holding the storage.</summary>
    public Device Device => PackedCodes.device;

    /// <summary>
    /// Quantizes <paramref name="weight"/> (any shape with at least one element, any floating dtype, any device) to NF4
    /// with double-quantized scales. Computation is in float32 on the weight's device. The input is not modified.
    /// Throws <see cref="ArgumentException"/> when the weight holds NaN or infinite values.
    /// </summary>
    public static Nf4Tensor Quantize(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (!is_floating_point(weight.dtype))
        {
            throw new ArgumentException(
                $"Nf4Tensor.Quantize: weight must be a floating-point tensor, got dtype {weight.dtype}.", nameof(weight));
        }
        if (weight.numel() == 0)
        {
            throw new ArgumentException("Nf4Tensor.Quantize: weight has no elements.", nameof(weight));
        }

        using var scope = NewDisposeScope();
        var layout = new Nf4Layout(weight.numel());
        var flat = weight.detach().to(ScalarType.Float32).reshape(-1); // (n)
        ThrowIfNotFinite(flat, weight.shape);

        var blocks = AbsmaxDoubleQuantizer.PadTo(flat, layout.BlockCount * BlockSize)
            .view(layout.BlockCount, BlockSize); // (blocks, 64), zero-padded
        var absmax = blocks.abs().amax(1); // (blocks)
        var inverse = AbsmaxDoubleQuantizer.SafeReciprocal(absmax).unsqueeze(1); // (blocks, 1)
        var normalized = (blocks * inverse).clamp(-1.0, 1.0); // (blocks, 64) in [-1, 1]
        var codes = normalized.bucketize(Nf4Codebook.Midpoints(flat.device)) // (blocks, 64) in [0, 15]
            .reshape(-1).narrow(0, 0, 2 * layout.PackedByteCount) // (2 * bytes); an odd n keeps one zero-code pad
            .view(layout.PackedByteCount, 2); // (bytes, 2)
        var packed = (codes.select(1, 0) * 16 + codes.select(1, 1)).to(ScalarType.Byte); // (bytes) high | low

        var (absmaxCodes, absmaxScales, absmaxOffset) = AbsmaxDoubleQuantizer.Quantize(absmax);

        var result = new Nf4Tensor(
            packed.DetachFromDisposeScope(),
            absmaxCodes.DetachFromDisposeScope(),
            absmaxScales.DetachFromDisposeScope(),
            absmaxOffset.DetachFromDisposeScope(),
            weight.shape);
        return result;
    }

    /// <summary>Reconstructs the tensor, of <see cref="Shape"/> and <paramref name="dtype"/>, on <see cref="Device"/>.</summary>
    public Tensor Dequantize(ScalarType dtype = ScalarType.Float32) =>
        Dequantize(PackedCodes, AbsmaxCodes, AbsmaxScales, AbsmaxOffset, _shape, dtype);

    /// <summary>The dequantized per-block absmax values, float32, (blocks).</summary>
    public Tensor DequantizeAbsmax() => AbsmaxDoubleQuantizer.Dequantize(AbsmaxCodes, AbsmaxScales, AbsmaxOffset);

    /// <summary>Frees the four storage tensors.</summary>
    public void Dispose()
    {
        PackedCodes.Dispose();
        AbsmaxCodes.Dispose();
        AbsmaxScales.Dispose();
        AbsmaxOffset.Dispose();
    }

    /// <summary>
    /// Dequantizes raw NF4 storage (the four tensors of an <see cref="Nf4Tensor"/>) into a tensor of
    /// <paramref name="shape"/> and <paramref name="dtype"/>: one gather of a 256-row table of value pairs by the
    /// packed bytes, then a multiply by the block absmax. Arithmetic is float32, cast to <paramref name="dtype"/> last
    /// (as bitsandbytes' CUDA kernel does).
    /// </summary>
    internal static Tensor Dequantize(
        Tensor packedCodes, Tensor absmaxCodes, Tensor absmaxScales, Tensor absmaxOffset,
        IReadOnlyList<long> shape, ScalarType dtype)
    {
        if (!is_floating_point(dtype))
        {
            throw new ArgumentException($"Nf4Tensor.Dequantize: dtype must be floating-point, got {dtype}.", nameof(dtype));
        }
        var layout = Nf4Layout.ForShape(shape);
        ValidateStorage(packedCodes, absmaxCodes, absmaxScales, absmaxOffset, layout, "Nf4Tensor.Dequantize");

        using var scope = NewDisposeScope();
        var absmax = AbsmaxDoubleQuantizer.Dequantize(absmaxCodes, absmaxScales, absmaxOffset); // (blocks)
        var pairs = Nf4Codebook.PackedPairTable(packedCodes.device)
            .index_select(0, packedCodes.to(ScalarType.Int32)); // (bytes, 2) code values in [-1, 1]
        var values = AbsmaxDoubleQuantizer.PadTo(pairs.view(-1), layout.BlockCount * BlockSize)
            .view(layout.BlockCount, BlockSize); // (blocks, 64), a fresh tensor: scaled in place
        var weight = values.mul_(absmax.unsqueeze(1)) // (blocks, 64)
            .view(-1).narrow(0, 0, layout.ElementCount) // (n)
            .view(shape.ToArray())
            .to(dtype);
        return weight.MoveToOuterDisposeScope();
    }

    private static void ThrowIfNotFinite(Tensor flat, long[] shape)
    {
        using var scope = NewDisposeScope();
        long bad = flat.isfinite().logical_not().sum().item<long>();
        if (bad > 0)
        {
            throw new ArgumentException(
                $"Nf4Tensor.Quantize: weight of shape [{string.Join(", ", shape)}] holds {bad} non-finite value(s) " +
                "(NaN or infinity); NF4 quantization needs finite weights.", "weight");
        }
    }

    private static void ValidateStorage(
        Tensor packedCodes, Tensor absmaxCodes, Tensor absmaxScales, Tensor absmaxOffset, Nf4Layout layout, string who)
    {
        ArgumentNullException.ThrowIfNull(packedCodes);
        ArgumentNullException.ThrowIfNull(absmaxCodes);
        ArgumentNullException.ThrowIfNull(absmaxScales);
        ArgumentNullException.ThrowIfNull(absmaxOffset);
        if (layout.ElementCount <= 0)
        {
            throw new ArgumentException($"{who}: shape must have at least one element.");
        }
        Expect(packedCodes, "packed codes", ScalarType.Byte, layout.PackedByteCount, who);
        Expect(absmaxCodes, "absmax codes", ScalarType.Byte, layout.BlockCount, who);
        Expect(absmaxScales, "absmax scales", ScalarType.Float32, layout.ScaleBlockCount, who);
        Expect(absmaxOffset, "absmax offset", ScalarType.Float32, 1, who);
        var device = packedCodes.device;
        foreach (var (t, name) in new[] { (absmaxCodes, "absmax codes"), (absmaxScales, "absmax scales"), (absmaxOffset, "absmax offset") })
        {
            if (t.device_type != device.type || t.device_index != device.index)
            {
                throw new ArgumentException($"{who}: {name} are on {t.device}, packed codes on {device}; all must share a device.");
            }
        }
    }

    private static void Expect(Tensor t, string name, ScalarType dtype, long count, string who)
    {
        if (t.dtype != dtype || t.dim() != 1 || t.shape[0] != count)
        {
            throw new ArgumentException(
                $"{who}: {name} must be a 1-D {dtype} tensor of {count} elements, got {t.dtype} of shape [{string.Join(", ", t.shape)}].");
        }
    }
}
