namespace FineTune.MLNet.Serving;

/// <summary>Column names of a classifier serving pipeline: it reads <see cref="Text"/> and adds <see cref="Score"/> and <see cref="PredictedLabel"/>.</summary>
public static class ServingColumns
{
    /// <summary>Input: the text to classify (String).</summary>
    public const string Text = "Text";

    /// <summary>Input of a sentence-pair pipeline: the second text of the pair (String).</summary>
    public const string SecondText = "SecondText";

    /// <summary>Output: class probabilities, float vector in label order.</summary>
    public const string Score = "Score";

    /// <summary>Output: the predicted label name (String), mapped back from <see cref="PredictedLabelKey"/> by <c>MapKeyToValue</c>.</summary>
    public const string PredictedLabel = "PredictedLabel";

    /// <summary>Output: the predicted label as a key whose key values are the label names.</summary>
    public const string PredictedLabelKey = "PredictedLabelKey";

    internal const string TokenizerKey = "TokenizerKey";
    internal const string TokenizerData = "TokenizerData";
    internal const string PredictedIndex = "PredictedIndex";
    internal const string OnnxProbabilities = "probabilities";
    internal static readonly string[] OnnxInputs = ["input_ids", "attention_mask", "token_type_ids"];
}

/// <summary>The input row of a serving pipeline's prediction engine.</summary>
public sealed class ServingInput
{
    public string Text { get; set; } = "";
}

/// <summary>The input row of a sentence-pair serving pipeline's prediction engine.</summary>
public sealed class ServingPairInput
{
    public string Text { get; set; } = "";

    public string SecondText { get; set; } = "";
}

/// <summary>The output row of a serving pipeline's prediction engine.</summary>
public sealed class ServingPrediction
{
    /// <summary>Class probabilities in label order.</summary>
    public float[] Score { get; set; } = [];

    /// <summary>The label with the largest probability.</summary>
    public string PredictedLabel { get; set; } = "";
}
