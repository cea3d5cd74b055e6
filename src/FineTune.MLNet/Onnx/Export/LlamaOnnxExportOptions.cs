namespace FineTune.MLNet.Onnx.Export;

/// <summary>Options of <see cref="LlamaOnnxExporter"/>.</summary>
public sealed record LlamaOnnxExportOptions
{
    /// <summary>Precision of the stored weights (the arithmetic is float32 either way). Default <see cref="OnnxWeightPrecision.Float32"/>.</summary>
    public OnnxWeightPrecision WeightPrecision { get; init; } = OnnxWeightPrecision.Float32;

    /// <summary>Name of the ONNX graph; non-empty. Default <c>llama_causal_lm</c>.</summary>
    public string GraphName { get; init; } = "llama_causal_lm";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
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
