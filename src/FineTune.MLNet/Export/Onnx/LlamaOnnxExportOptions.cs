namespace FineTune.MLNet.Export.Onnx;

/// <summary>Options of <see cref="LlamaOnnxExporter"/>.</summary>
public sealed record LlamaOnnxExportOptions
{
    /// <summary>Precision of the stored weights (the arithmetic is float32 either way). Default <see cref="OnnxWeightPrecision.Float32"/>.</summary>
    public OnnxWeightPrecision WeightPrecision { get; init; } = OnnxWeightPrecision.Float32;

    /// <summary>
    /// Adds a KV cache as Hugging Face Optimum's decoder exports: inputs <c>past_key_values.{i}.key</c> / <c>.value</c>
    /// and outputs <c>present.{i}.key</c> / <c>.value</c> per layer, and <c>attention_mask</c> spanning past + current
    /// positions. Default false: the graph takes the whole sequence every call, with no cache inputs or outputs.
    /// </summary>
    public bool WithKvCache { get; init; }

    /// <summary>Name of the ONNX graph; non-empty. Default <c>llama_causal_lm</c>.</summary>
    public string GraphName { get; init; } = "llama_causal_lm";

    /// <summary>
    /// Above this many bytes of weights (sum of all initializers) the file is written with external data, as ONNX
    /// Runtime GenAI's model builder does: initializers of 1 KiB or more go to <c>&lt;file&gt;.data</c> beside the model
    /// (a protobuf file cannot exceed 2 GB). 0 writes external data always. Default 1 GiB.
    /// </summary>
    public long ExternalDataAboveBytes { get; init; } = 1L << 30;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (ExternalDataAboveBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ExternalDataAboveBytes), ExternalDataAboveBytes, "ExternalDataAboveBytes must be 0 or more.");
        }
        if (!Enum.IsDefined(WeightPrecision))
        {
            throw new ArgumentOutOfRangeException(nameof(WeightPrecision), WeightPrecision, "WeightPrecision must be Float32 or Float16.");
        }
        if (string.IsNullOrWhiteSpace(GraphName))
        {
            throw new ArgumentException("GraphName must be a non-empty name.", nameof(GraphName));
        }
    }
}
