namespace FineTune.MLNet.Export.Onnx;

/// <summary>How the exported ONNX file stores the model's weights.</summary>
public enum OnnxWeightPrecision
{
    /// <summary>float32 initializers; the export computes exactly what the TorchSharp model computes (to float rounding).</summary>
    Float32,

    /// <summary>
    /// float16 initializers, each followed by a <c>Cast</c> to float32: the file is about half the size, the arithmetic
    /// stays float32 (ONNX Runtime folds the casts when it loads the session, so memory at run time is float32 too).
    /// Weights are rounded to float16 (about 3 significant digits), so outputs differ from the float32 model by the
    /// rounding of the weights (typically 1e-3 on logits), and values beyond ±65504 do not fit and are rejected.
    /// </summary>
    Float16,
}

/// <summary>Options of <see cref="BertOnnxExporter"/>.</summary>
public sealed record BertOnnxExportOptions
{
    /// <summary>Also output the encoder's <c>last_hidden_state</c> (batch, sequence, hidden). Default false.</summary>
    public bool IncludeLastHiddenState { get; init; }

    /// <summary>Precision of the stored weights. Default <see cref="OnnxWeightPrecision.Float32"/>.</summary>
    public OnnxWeightPrecision WeightPrecision { get; init; } = OnnxWeightPrecision.Float32;

    /// <summary>Name of the ONNX graph; non-empty. Default <c>bert_sequence_classification</c>.</summary>
    public string GraphName { get; init; } = "bert_sequence_classification";

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
