using FineTune.MLNet.Formats.HuggingFace;
namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// Model FLOPs of a BERT encoder training step, by PaLM's MFU convention (Chowdhery et al. 2022, appendix B):
/// per token, <c>6·N + 12·L·H·T</c>, where N counts the non-embedding matmul weights of the encoder
/// (<c>L·(4·H² + 2·H·I)</c>: query, key, value, attention output, intermediate, output), L is the number of layers,
/// H the hidden size and T the (padded) sequence length. 6N is forward (2N) + backward (4N); 12·L·H·T is the attention
/// score and value products (2·2·H·T per layer forward, times 3 with backward). Biases, LayerNorm, softmax, GELU, the
/// embeddings, pooler and classifier (once per sequence) are not counted: MFU counts only the model's required matmuls.
/// </summary>
internal static class MiniLmFlops
{
    /// <summary>Non-embedding matmul parameters N of the encoder.</summary>
    public static double NonEmbeddingParameters(BertConfig c) =>
        (double)c.NumHiddenLayers * (4.0 * c.HiddenSize * c.HiddenSize + 2.0 * c.HiddenSize * c.IntermediateSize);

    /// <summary>Training FLOPs per token (6N + 12·L·H·T).</summary>
    public static double TrainingPerToken(BertConfig c, long seqLen) =>
        6 * NonEmbeddingParameters(c) + 12.0 * c.NumHiddenLayers * c.HiddenSize * seqLen;

    /// <summary>
    /// FLOPs a LoRA step really needs per token: forward 2N, backward through every layer for activation gradients
    /// 2N (frozen weights get no weight gradients), and the attention products (12·L·H·T). The adapters themselves
    /// (r ≪ H) are left out.
    /// </summary>
    public static double LoraPerToken(BertConfig c, long seqLen) =>
        4 * NonEmbeddingParameters(c) + 12.0 * c.NumHiddenLayers * c.HiddenSize * seqLen;

    /// <summary>Inference (forward only) FLOPs per token: 2N + 4·L·H·T.</summary>
    public static double InferencePerToken(BertConfig c, long seqLen) =>
        2 * NonEmbeddingParameters(c) + 4.0 * c.NumHiddenLayers * c.HiddenSize * seqLen;
}
