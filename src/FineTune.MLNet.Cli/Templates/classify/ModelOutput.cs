using Microsoft.ML.Data;

namespace {{Namespace}};

/// <summary>What the model predicts for a row: the label's name and the probability of each label.</summary>
public sealed class ModelOutput
{
    [ColumnName("PredictedText")]
    public string PredictedLabel { get; set; } = "";

    public float[] Score { get; set; } = [];
}
