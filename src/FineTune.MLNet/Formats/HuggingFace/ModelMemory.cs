namespace FineTune.MLNet.Formats.HuggingFace;

/// <summary>
/// Size checks computed from a config before any tensor is allocated: a config.json asking for an absurd model
/// (<see cref="MaxParameters"/>) is refused when it is validated, and a model that does not fit this machine's memory
/// is refused by <c>EnsureFits</c> before it is built, with the parameter count and the bytes it needs, instead
/// of an out-of-memory crash part way through.
/// </summary>
public static class ModelMemory
{
    /// <summary>More parameters than any real checkpoint (10^12); a config above it is corrupt or hostile.</summary>
    public const double MaxParameters = 1e12;

    /// <summary>Parameters of a Llama/Mistral/Qwen2 decoder with this config (embeddings, layers, norms, untied head).</summary>
    public static double ParameterCount(LlamaConfig c)
    {
        double h = c.HiddenSize, q = (double)c.NumAttentionHeads * c.EffectiveHeadDim, kv = (double)c.KeyValueHeads * c.EffectiveHeadDim;
        double layer = h * q + 2 * h * kv + q * h + 3 * h * c.IntermediateSize + 2 * h + (c.QkvBias ? q + 2 * kv : 0);
        return (double)c.VocabSize * h * (c.TieWordEmbeddings ? 1 : 2) + c.NumHiddenLayers * layer + h;
    }

    /// <summary>Parameters of the seven block projections (q, k, v, o, gate, up, down) of all layers: what QLoRA stores as NF4.</summary>
    public static double ProjectionParameterCount(LlamaConfig c)
    {
        double h = c.HiddenSize, q = (double)c.NumAttentionHeads * c.EffectiveHeadDim, kv = (double)c.KeyValueHeads * c.EffectiveHeadDim;
        return c.NumHiddenLayers * (h * q + 2 * h * kv + q * h + 3 * h * c.IntermediateSize);
    }

    /// <summary>NF4 bytes per weight with double-quantized scales: 4 bits, plus one 8-bit scale per 64 weights and one
    /// float32 second-level scale per 256 scales (bitsandbytes' layout).</summary>
    public const double Nf4BytesPerParameter = 0.5 + 1.0 / 64 + 4.0 / (64 * 256);

    /// <summary>
    /// Bytes the built model holds: float32 everywhere, except that with QLoRA (<paramref name="quantizeBase"/>) the block
    /// projections are NF4 (<see cref="Nf4BytesPerParameter"/>) while embeddings, norms and lm_head stay float32.
    /// Adapters are not counted (they are small next to the base).
    /// </summary>
    public static double ResidentBytes(LlamaConfig c, bool quantizeBase)
    {
        double all = ParameterCount(c);
        if (!quantizeBase) return all * sizeof(float);
        double projections = ProjectionParameterCount(c);
        return (all - projections) * sizeof(float) + projections * Nf4BytesPerParameter;
    }

    /// <summary>Parameters of a BERT/DistilBERT encoder with this config (embeddings, layers, pooler, head).</summary>
    public static double ParameterCount(BertConfig c)
    {
        double h = c.HiddenSize, i = c.IntermediateSize;
        double embeddings = ((double)c.VocabSize + c.MaxPositionEmbeddings + c.TypeVocabSize) * h + 2 * h;
        double layer = 4 * (h * h + h) + 2 * h * i + i + h + 4 * h;
        return embeddings + c.NumHiddenLayers * layer + h * h + h + h * c.NumLabels + c.NumLabels;
    }

    /// <summary>
    /// Refuses to build a model of <paramref name="parameters"/> parameters at <paramref name="bytesPerParameter"/> bytes
    /// each when that is more than the memory this process may use (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>:
    /// physical memory or the container's limit).
    /// </summary>
    /// <exception cref="InvalidOperationException">The model does not fit; the message gives both sizes.</exception>
    public static void EnsureFits(double parameters, int bytesPerParameter, string what) =>
        EnsureFits(parameters, parameters * bytesPerParameter, $"{bytesPerParameter} bytes each", what);

    /// <summary>
    /// Refuses to build a model that needs <paramref name="neededBytes"/> when that is more than the memory this process
    /// may use; <paramref name="layout"/> says how the bytes were counted (for the message).
    /// </summary>
    /// <exception cref="InvalidOperationException">The model does not fit; the message gives both sizes.</exception>
    public static void EnsureFits(double parameters, double neededBytes, string layout, string what)
    {
        double needed = neededBytes;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (available > 0 && needed > available)
        {
            throw new InvalidOperationException(
                $"{what}: the model has {parameters:N0} parameters, {needed / (1 << 30):N1} GiB at {layout}, " +
                $"more than the {available / (double)(1 << 30):N1} GiB of memory available; use a smaller model (or a machine with more memory).");
        }
    }
}
