using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Quantization;

/// <summary>
/// QLoRA's double quantization of the per-block absmax values, as bitsandbytes does it in
/// <c>quantize_4bit(..., compress_statistics=True)</c>: <c>offset = absmax.mean()</c>, then
/// <c>quantize_blockwise(absmax - offset, code=create_dynamic_map(signed=True), blocksize=256)</c>, i.e. each block
/// of 256 centered values is divided by its own absmax and rounded to the nearest of the 256 dynamic-map codes.
/// Dequantization: <c>absmax = map[q] * scale[block] + offset</c>.
/// </summary>
internal static class AbsmaxDoubleQuantizer
{
    /// <summary>
    /// Quantizes the float32 absmax values <paramref name="absmax"/> (shape (blocks)).
    /// Returns the 8-bit codes (uint8, (blocks)), the second-level scales (float32, (ceil(blocks/256))) and the
    /// offset (float32, (1)), all on the input's device.
    /// </summary>
    public static (Tensor Codes, Tensor Scales, Tensor Offset) Quantize(Tensor absmax)
    {
        using var scope = NewDisposeScope();
        long count = absmax.shape[0];
        var layoutBlocks = (count + Nf4Layout.ScaleBlockSize - 1) / Nf4Layout.ScaleBlockSize;

        var offset = absmax.mean().reshape(1); // (1)
        var centered = absmax - offset; // (blocks)
        var padded = PadTo(centered, layoutBlocks * Nf4Layout.ScaleBlockSize)
            .view(layoutBlocks, Nf4Layout.ScaleBlockSize); // (scaleBlocks, 256)
        var scales = padded.abs().amax(1); // (scaleBlocks)
        var inverse = SafeReciprocal(scales).unsqueeze(1); // (scaleBlocks, 1)
        var normalized = (padded * inverse).clamp(-1.0, 1.0); // (scaleBlocks, 256) in [-1, 1]
        var codes = normalized.bucketize(DynamicMap8Bit.Midpoints(absmax.device)) // (scaleBlocks, 256) in [0, 255]
            .reshape(-1).narrow(0, 0, count).to(ScalarType.Byte); // (blocks)

        return (codes.MoveToOuterDisposeScope(), scales.MoveToOuterDisposeScope(), offset.MoveToOuterDisposeScope());
    }

    /// <summary>Reconstructs the float32 absmax values, shape (blocks), from the codes, scales and offset.</summary>
    public static Tensor Dequantize(Tensor codes, Tensor scales, Tensor offset)
    {
        using var scope = NewDisposeScope();
        long count = codes.shape[0];
        long scaleBlocks = scales.shape[0];
        var values = DynamicMap8Bit.AsTensor(codes.device).index_select(0, codes.to(ScalarType.Int64)); // (blocks)
        var padded = PadTo(values, scaleBlocks * Nf4Layout.ScaleBlockSize)
            .view(scaleBlocks, Nf4Layout.ScaleBlockSize); // (scaleBlocks, 256)
        var absmax = (padded * scales.unsqueeze(1)).reshape(-1).narrow(0, 0, count) + offset; // (blocks)
        return absmax.MoveToOuterDisposeScope();
    }

    /// <summary>1 / x where x != 0, and 0 where x == 0 (an all-zero block then maps to the zero code).</summary>
    internal static Tensor SafeReciprocal(Tensor x)
    {
        using var scope = NewDisposeScope();
        var isZero = x.eq(0); // same shape as x
        var safe = x.masked_fill(isZero, 1.0).reciprocal().masked_fill(isZero, 0.0);
        return safe.MoveToOuterDisposeScope();
    }

    /// <summary>Zero-pads a 1-D tensor at its end to <paramref name="length"/> elements (no copy when already there).</summary>
    internal static Tensor PadTo(Tensor flat, long length)
    {
        long missing = length - flat.shape[0];
        return missing == 0 ? flat.alias() : nn.functional.pad(flat, [0, missing]);
    }
}
