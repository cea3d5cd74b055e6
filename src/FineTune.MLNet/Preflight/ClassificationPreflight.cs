using FineTune.MLNet.Data;
using FineTune.MLNet.Tokenization;

namespace FineTune.MLNet.Preflight;

/// <summary>The tables of a classification run and how training reads them.</summary>
/// <param name="Train">Training table.</param>
/// <param name="Valid">Validation table, if any.</param>
/// <param name="Test">Test table, if any.</param>
/// <param name="TextColumn">Text column.</param>
/// <param name="LabelColumn">Label column.</param>
/// <param name="MaxLength">Tokens per example, <c>[CLS]</c> and <c>[SEP]</c> included (longer texts are truncated).</param>
public sealed record ClassificationPreflightInput(DelimitedTable Train, DelimitedTable? Valid, DelimitedTable? Test, string TextColumn, string LabelColumn, int MaxLength);

/// <summary>
/// Preflight of a text-classification run: the training checks themselves (<see cref="ClassificationTables.Check"/>:
/// rows, columns, empty texts, labels of valid/test unseen in train) as errors, then label distribution and imbalance,
/// duplicates across splits (exact and whitespace/case-normalized) and within training with different labels, very
/// long texts and the truncation rate at the maximum length with the model's own WordPiece tokenizer.
/// </summary>
public static class ClassificationPreflight
{
    /// <summary>Imbalance (largest class / smallest class in training) from which a warning suggests class weights.</summary>
    public const double ImbalanceWarning = 5;

    /// <summary>Share of truncated training texts from which a warning is given.</summary>
    public const double TruncationWarning = 0.05;

    /// <summary>Texts longer than this many times the maximum length are "very long" (most of the text is never seen).</summary>
    public const int VeryLongFactor = 4;

    /// <summary>Runs every check; errors and warnings name the file, the column and the first data row (1-based).</summary>
    public static PreflightReport Run(ClassificationPreflightInput input, WordPieceTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var report = new PreflightReport("classify");
        var splits = new List<(string Name, DelimitedTable Table)> { ("train", input.Train) };
        if (input.Valid is not null) splits.Add(("valid", input.Valid));
        if (input.Test is not null) splits.Add(("test", input.Test));
        foreach (var (name, table) in splits) report.Fact($"{name}_rows", table.RowCount);
        try
        {
            ClassificationTables.Check(input.Train, splits.Skip(1).Select(s => s.Table), input.TextColumn, input.LabelColumn);
        }
        catch (Exception e) when (e is InvalidDataException or KeyNotFoundException)
        {
            report.Error(e.Message);
            if (e is KeyNotFoundException) return report;   // the other checks need the columns
        }

        LabelDistribution(report, splits, input.LabelColumn);
        Duplicates(report, splits, input.TextColumn, input.LabelColumn);
        Lengths(report, splits, input.TextColumn, input.MaxLength, tokenizer);
        return report;
    }

    private static void LabelDistribution(PreflightReport report, List<(string Name, DelimitedTable Table)> splits, string labelColumn)
    {
        var distribution = splits.ToDictionary(s => s.Name, s => s.Table.GetColumn(labelColumn).Where(l => !string.IsNullOrWhiteSpace(l))
            .GroupBy(l => l, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()));
        report.Fact("label_distribution", distribution);
        var train = distribution["train"];
        if (train.Count < 2) return;
        var largest = train.MaxBy(kv => kv.Value);
        var smallest = train.MinBy(kv => kv.Value);
        double ratio = (double)largest.Value / smallest.Value;
        report.Fact("imbalance_ratio", Math.Round(ratio, 3));
        if (ratio >= ImbalanceWarning)
            report.Warn($"{splits[0].Table.Source}: column '{labelColumn}' is imbalanced: '{largest.Key}' has {largest.Value} rows, '{smallest.Key}' only {smallest.Value} " +
                        $"({ratio:F1}x); consider --balance-classes.");
    }

    private static void Duplicates(PreflightReport report, List<(string Name, DelimitedTable Table)> splits, string textColumn, string labelColumn)
    {
        var trainTexts = splits[0].Table.GetColumn(textColumn);
        var exact = trainTexts.ToHashSet(StringComparer.Ordinal);
        var normalized = trainTexts.Select(TextKeys.Normalize).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, table) in splits.Skip(1))
        {
            var texts = table.GetColumn(textColumn);
            var exactRows = Rows(texts, t => exact.Contains(t));
            var normalizedRows = Rows(texts, t => normalized.Contains(TextKeys.Normalize(t)));
            report.Fact($"{name}_duplicates_of_train", exactRows.Count);
            report.Fact($"{name}_duplicates_of_train_normalized", normalizedRows.Count);
            if (normalizedRows.Count == 0) continue;
            report.Warn($"{table.Source}: {normalizedRows.Count} of {table.RowCount} data row(s) in column '{textColumn}' also occur in training " +
                        $"({exactRows.Count} exactly, the rest after normalizing whitespace and case); the first is data row {normalizedRows[0]}. " +
                        $"Scores on {name} overstate what the model learned.");
        }

        var labels = splits[0].Table.GetColumn(labelColumn);
        var conflicts = trainTexts.Select((t, r) => (Key: TextKeys.Normalize(t), Label: labels[r], Row: r + 1))
            .GroupBy(x => x.Key, StringComparer.Ordinal).Where(g => g.Select(x => x.Label).Distinct(StringComparer.Ordinal).Count() > 1).ToList();
        report.Fact("train_texts_with_conflicting_labels", conflicts.Count);
        if (conflicts.Count > 0)
            report.Warn($"{splits[0].Table.Source}: {conflicts.Count} text(s) occur with different labels in column '{labelColumn}'; " +
                        $"the first at data rows {string.Join(", ", conflicts[0].Select(x => x.Row))}.");
    }

    private static List<int> Rows(string[] texts, Func<string, bool> match) =>
        texts.Select((t, r) => (t, r)).Where(x => match(x.t)).Select(x => x.r + 1).ToList();

    private static void Lengths(PreflightReport report, List<(string Name, DelimitedTable Table)> splits, string textColumn, int maxLength, WordPieceTokenizer tokenizer)
    {
        foreach (var (name, table) in splits)
        {
            var texts = table.GetColumn(textColumn);
            var lengths = texts.Select(t => string.IsNullOrWhiteSpace(t) ? 0 : tokenizer.CountTokens(t)).ToArray();
            var nonEmpty = lengths.Where(l => l > 0).ToArray();
            if (nonEmpty.Length == 0) continue;
            int truncated = nonEmpty.Count(l => l > maxLength);
            double rate = (double)truncated / nonEmpty.Length;
            report.Fact($"{name}_tokens_mean", Math.Round(nonEmpty.Average(), 2));
            report.Fact($"{name}_tokens_max", nonEmpty.Max());
            report.Fact($"{name}_truncated", truncated);
            report.Fact($"{name}_truncation_rate", Math.Round(rate, 4));
            if (name == "train") report.Fact("train_length_histogram", LengthHistogram.Bins(nonEmpty, maxLength));
            if (rate >= TruncationWarning)
                report.Warn($"{table.Source}: {truncated} of {nonEmpty.Length} text(s) ({rate:P1}) in column '{textColumn}' are longer than --max-length {maxLength} tokens and will be truncated.");
            var veryLong = lengths.Select((l, r) => (l, r)).Where(x => x.l > VeryLongFactor * maxLength).ToList();
            if (veryLong.Count > 0)
                report.Warn($"{table.Source}: {veryLong.Count} text(s) in column '{textColumn}' are very long (over {VeryLongFactor} x --max-length = {VeryLongFactor * maxLength} tokens; " +
                            $"the longest has {veryLong.Max(x => x.l)}); the first is data row {veryLong[0].r + 1}. Most of such a text is never seen.");
        }
    }
}
