namespace FineTune.MLNet.Formats.Gguf;

/// <summary>
/// One tensor of a GGUF file. <see cref="Dimensions"/> are in ggml order (<c>ne[0]</c>, the contiguous one, first),
/// so a PyTorch/HF shape is their reverse: an HF linear weight (out, in) is stored as [in, out].
/// </summary>
/// <param name="Name">Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Dimensions">ggml dims, 1 to 4 of them, each &gt; 0.</param>
/// <param name="Type">Storage type.</param>
/// <param name="Offset">Offset of the data from the start of the data section (a multiple of the alignment).</param>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<long> Dimensions, GgmlType Type, long Offset)
{
    /// <summary>Product of the dimensions.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, d) => checked(a * d));

    /// <summary>Stored bytes.</summary>
    public long ByteSize => GgmlTypeInfo.ByteSize(Type, ElementCount);

    /// <summary>The PyTorch shape (dimensions reversed).</summary>
    public long[] TorchShape => [.. Dimensions.Reverse()];
}
