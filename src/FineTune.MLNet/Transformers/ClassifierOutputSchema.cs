using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// The output schema of a text classifier, built in one place for the transformer (<see cref="TextClassificationTransformer.GetOutputSchema"/>,
/// its data view and row mapper) and the estimator (<c>TextClassificationFineTuneEstimator.GetOutputSchema</c>), with the
/// annotations ML.NET's evaluators read (<c>ScoreColumnKind</c>, <c>ScoreValueKind</c>, <c>SlotNames</c>, <c>KeyValues</c>).
/// </summary>
internal static class ClassifierOutputSchema
{
    /// <summary>The input schema plus the score vector (with slot names) and the predicted key (with key values).</summary>
    public static DataViewSchema Multiclass(DataViewSchema input, IReadOnlyList<string> labels, string scoreColumn, string predictedLabelColumn)
    {
        var names = new VBuffer<ReadOnlyMemory<char>>(labels.Count, labels.Select(l => l.AsMemory()).ToArray());
        var namesType = new VectorDataViewType(TextDataViewType.Instance, labels.Count);
        var scoreAnnotations = new DataViewSchema.Annotations.Builder();
        scoreAnnotations.Add("SlotNames", namesType, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        scoreAnnotations.Add("ScoreColumnKind", TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = "MulticlassClassification".AsMemory());
        scoreAnnotations.Add("ScoreValueKind", TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = "Score".AsMemory());
        var keyAnnotations = new DataViewSchema.Annotations.Builder();
        keyAnnotations.Add("KeyValues", namesType, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumn(scoreColumn, new VectorDataViewType(NumberDataViewType.Single, labels.Count), scoreAnnotations.ToAnnotations());
        builder.AddColumn(predictedLabelColumn, new KeyDataViewType(typeof(uint), labels.Count), keyAnnotations.ToAnnotations());
        return builder.ToSchema();
    }

    /// <summary>
    /// Binary tasks (Boolean label): <c>Score</c> = logit of the positive class (log p1 − log p0), <c>Probability</c> = p1,
    /// <c>PredictedLabel</c> = p1 &gt; 0.5, as <c>mlContext.BinaryClassification.Evaluate</c> expects.
    /// </summary>
    public static DataViewSchema Binary(DataViewSchema input, string scoreColumn, string probabilityColumn, string predictedLabelColumn)
    {
        var scoreAnnotations = new DataViewSchema.Annotations.Builder();
        scoreAnnotations.Add("ScoreColumnKind", TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = "BinaryClassification".AsMemory());
        scoreAnnotations.Add("ScoreValueKind", TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = "Score".AsMemory());
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumn(scoreColumn, NumberDataViewType.Single, scoreAnnotations.ToAnnotations());
        builder.AddColumn(probabilityColumn, NumberDataViewType.Single);
        builder.AddColumn(predictedLabelColumn, BooleanDataViewType.Instance);
        return builder.ToSchema();
    }
}
