namespace FineTune.MLNet.Serving;

/// <summary>Options of <see cref="ClassifierServingPipeline"/>.</summary>
public sealed record ServingPipelineOptions
{
    /// <summary>
    /// GPU (CUDA) device id ONNX Runtime scores on; null (default) = CPU. A loaded model takes it from
    /// <c>MLContext.GpuDeviceId</c> instead (ML.NET does not store it in the .zip). Must be null or at least 0.
    /// </summary>
    public int? GpuDeviceId { get; init; }

    /// <summary>When the GPU cannot be used, score on the CPU instead of failing. Default true.</summary>
    public bool FallbackToCpu { get; init; } = true;

    /// <summary>
    /// Serve the int8 dynamically quantized model (<c>OnnxDynamicQuantizer</c>: MatMul weights per output column and
    /// embedding rows int8, activations quantized at run time) instead of float32: smaller and faster on CPU. Default false.
    /// </summary>
    public bool Int8 { get; init; }

    /// <summary>
    /// The classifier was trained on sentence pairs: the pipeline reads <see cref="ServingColumns.Text"/> and
    /// <see cref="ServingColumns.SecondText"/> and encodes <c>[CLS] text [SEP] second [SEP]</c> with token types 0 / 1.
    /// <c>ToServingPipeline</c> sets it from the transformer's columns. Default false (one text column).
    /// </summary>
    public bool SentencePair { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (GpuDeviceId is < 0)
            throw new ArgumentOutOfRangeException(nameof(GpuDeviceId), GpuDeviceId, "GpuDeviceId must be null (CPU) or a device id of at least 0.");
    }
}
