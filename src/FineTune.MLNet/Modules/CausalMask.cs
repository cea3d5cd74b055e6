using static TorchSharp.torch;

namespace FineTune.MLNet.Modules;

/// <summary>
/// The additive attention mask of a causal decoder with padding, as HF
/// <c>_prepare_4d_causal_attention_mask_with_cache_position</c>: 0 where query i (absolute position
/// <c>past + i</c>) may see key j (<c>j ≤ past + i</c> and <c>attention_mask[b, j] = 1</c>), and the dtype's
/// most negative finite value elsewhere (not −inf, so fully masked rows, e.g. left-pad queries, softmax to uniform).
/// </summary>
public static class CausalMask
{
    /// <param name="attentionMask">(B, past + T) with 1 for real tokens and 0 for padding, or null for no padding.</param>
    /// <returns>(B or 1, 1, T, past + T) in <paramref name="dtype"/>.</returns>
    public static Tensor Build(long batch, long queryLength, long pastLength, Tensor? attentionMask, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        long keyLength = pastLength + queryLength;
        if (attentionMask is not null && attentionMask.shape.Length == 4)
        {
            // A full (B, 1, T, S) Boolean "may attend" mask, e.g. packed examples' block-diagonal causal attention.
            if (attentionMask.shape[2] != queryLength || attentionMask.shape[3] != keyLength)
                throw new ArgumentException($"A 4-D attention mask must be (B, 1, {queryLength}, {keyLength}), got [{string.Join(", ", attentionMask.shape)}].", nameof(attentionMask));
            var block = zeros(attentionMask.shape, dtype: dtype, device: device).masked_fill(attentionMask.to(device).logical_not(), MinValue(dtype));
            return block.MoveToOuterDisposeScope();
        }
        if (attentionMask is not null && (attentionMask.shape.Length != 2 || attentionMask.shape[0] != batch || attentionMask.shape[1] != keyLength))
        {
            throw new ArgumentException(
                $"attention_mask must have shape [{batch}, {keyLength}] (batch, cached + new positions), got [{string.Join(", ", attentionMask.shape)}].",
                nameof(attentionMask));
        }
        var queryPos = arange(pastLength, keyLength, dtype: ScalarType.Int64, device: device).unsqueeze(1);   // (T, 1)
        var keyPos = arange(0, keyLength, dtype: ScalarType.Int64, device: device).unsqueeze(0);             // (1, S)
        var allowed = keyPos.le(queryPos).unsqueeze(0).unsqueeze(0);                                          // (1, 1, T, S)
        if (attentionMask is not null)
        {
            var keep = attentionMask.to(device).ne(0).unsqueeze(1).unsqueeze(1);                              // (B, 1, 1, S)
            allowed = allowed.logical_and(keep);                                                               // (B, 1, T, S)
        }
        var mask = zeros(allowed.shape, dtype: dtype, device: device)
            .masked_fill(allowed.logical_not(), MinValue(dtype));
        return mask.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// HF <c>AttentionMaskConverter._unmask_unattended</c> for <c>scaled_dot_product_attention</c>: query rows that may
    /// see no key at all (left-padding queries) are opened to every key (0 everywhere), because the fused kernel's
    /// backward is wrong on rows that are entirely masked. Only padding positions change; their outputs reach no loss.
    /// </summary>
    /// <param name="mask">Additive (B|1, 1, T, S) from <see cref="Build"/>.</param>
    /// <returns>The same shape; <paramref name="mask"/> itself (not a copy) when no row is fully masked.</returns>
    public static Tensor UnmaskFullyMaskedRows(Tensor mask)
    {
        using var scope = NewDisposeScope();
        var blocked = mask.eq(MinValue(mask.dtype)).all(-1, keepdim: true);   // (B|1, 1, T, 1)
        if (!blocked.any().item<bool>()) return mask.alias().MoveToOuterDisposeScope();
        return mask.masked_fill(blocked, 0).MoveToOuterDisposeScope();
    }

    /// <summary>torch.finfo(dtype).min.</summary>
    public static double MinValue(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => float.MinValue,
        ScalarType.Float64 => double.MinValue,
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        _ => throw new NotSupportedException($"Attention masks need a floating dtype, got {dtype}."),
    };

    /// <summary>
    /// Position ids as HF <c>generate()</c> passes them for a padded batch: <c>cumsum(mask) − 1</c>, with padding
    /// positions set to 1. (B, T) int64.
    /// </summary>
    public static Tensor PositionIdsFromMask(Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var m = attentionMask.to_type(ScalarType.Int64);
        var pos = m.cumsum(-1).sub(1).masked_fill(m.eq(0), 1);   // (B, T)
        return pos.MoveToOuterDisposeScope();
    }
}
