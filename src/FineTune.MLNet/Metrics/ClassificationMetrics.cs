namespace FineTune.MLNet.Metrics;

/// <summary>Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix of a multiclass prediction.</summary>
public sealed record ClassificationMetrics(
    double Accuracy,
    double MacroF1,
    IReadOnlyList<double> PerClassPrecision,
    IReadOnlyList<double> PerClassRecall,
    IReadOnlyList<double> PerClassF1,
    int[,] ConfusionMatrix)
{
    /// <summary>Computes the metrics; <c>ConfusionMatrix[truth, predicted]</c>. Classes absent from both truth and
    /// prediction count as F1 = 0 only if they occur in truth (sklearn's macro average over present labels otherwise).</summary>
    public static ClassificationMetrics Compute(IReadOnlyList<int> truth, IReadOnlyList<int> predicted, int numClasses)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException($"truth has {truth.Count} rows but predicted has {predicted.Count}.");
        if (truth.Count == 0) throw new ArgumentException("Cannot compute metrics of zero rows.");
        var cm = new int[numClasses, numClasses];
        for (var i = 0; i < truth.Count; i++)
        {
            if ((uint)truth[i] >= numClasses || (uint)predicted[i] >= numClasses)
                throw new ArgumentOutOfRangeException(nameof(truth), $"row {i}: class index out of 0..{numClasses - 1}.");
            cm[truth[i], predicted[i]]++;
        }
        var precision = new double[numClasses];
        var recall = new double[numClasses];
        var f1 = new double[numClasses];
        var correct = 0;
        var present = new List<int>();
        for (var c = 0; c < numClasses; c++)
        {
            int tp = cm[c, c], rowSum = 0, colSum = 0;
            for (var k = 0; k < numClasses; k++) { rowSum += cm[c, k]; colSum += cm[k, c]; }
            correct += tp;
            precision[c] = colSum == 0 ? 0 : (double)tp / colSum;
            recall[c] = rowSum == 0 ? 0 : (double)tp / rowSum;
            f1[c] = precision[c] + recall[c] == 0 ? 0 : 2 * precision[c] * recall[c] / (precision[c] + recall[c]);
            if (rowSum > 0 || colSum > 0) present.Add(c);
        }
        var macro = present.Count == 0 ? 0 : present.Average(c => f1[c]);
        return new ClassificationMetrics((double)correct / truth.Count, macro, precision, recall, f1, cm);
    }

    /// <summary>A fixed-width text table of the confusion matrix (rows = truth, columns = prediction).</summary>
    public string FormatConfusionMatrix(IReadOnlyList<string> labels)
    {
        var n = labels.Count;
        var w = Math.Max(8, labels.Max(l => l.Length) + 2);
        var sb = new System.Text.StringBuilder();
        sb.Append("truth \\ pred".PadRight(w));
        foreach (var l in labels) sb.Append(l.PadLeft(w));
        sb.AppendLine();
        for (var i = 0; i < n; i++)
        {
            sb.Append(labels[i].PadRight(w));
            for (var j = 0; j < n; j++) sb.Append(ConfusionMatrix[i, j].ToString().PadLeft(w));
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
