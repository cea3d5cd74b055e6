using FineTune.MLNet.Formats.Gguf;

namespace FineTune.MLNet.Export.Gguf;

/// <summary>
/// The storage type of each tensor, as <c>convert_hf_to_gguf.py</c> picks it: 1-D tensors (norms, biases, RoPE
/// factors) F32; 2-D weights the requested type, falling back to F16 when a quantized type's 32-value blocks do not
/// divide a row (e.g. stories260K's <c>ffn_down</c>, rows of 172).
/// </summary>
public static class GgufTensorTypePolicy
{
    /// <param name="ggmlDims">ggml dims (row length first).</param>
    /// <param name="requested">The export type.</param>
    public static GgmlType Choose(IReadOnlyList<long> ggmlDims, GgufExportType requested)
    {
        ArgumentNullException.ThrowIfNull(ggmlDims);
        if (ggmlDims.Count <= 1) return GgmlType.F32;
        var type = requested.MatrixType();
        return ggmlDims[0] % GgmlTypeInfo.BlockSize(type) == 0 ? type : GgmlType.F16;
    }
}
