namespace FineTune.MLNet.Data;

/// <summary>
/// Checks all the tables of a text-classification run together, before training starts: every table has data rows, the
/// text (and pair) and label columns, no empty text or label; training has at least two labels; and every label of the
/// validation and test tables occurs in training (a label the model never saw cannot be predicted or scored).
/// </summary>
public static class ClassificationTables
{
    /// <summary>Throws <see cref="InvalidDataException"/> (or <see cref="KeyNotFoundException"/> for a missing column)
    /// naming the file, the column and what was expected; returns the distinct training labels in first-seen order.</summary>
    /// <param name="train">Training table.</param>
    /// <param name="evaluated">Validation and test tables (each checked against the training labels).</param>
    /// <param name="textColumn">Text column, required in every table.</param>
    /// <param name="labelColumn">Label column, required in every table.</param>
    /// <param name="pairColumn">Optional second text column (sentence pairs).</param>
    public static IReadOnlyList<string> Check(DelimitedTable train, IEnumerable<DelimitedTable> evaluated, string textColumn, string labelColumn, string? pairColumn = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(evaluated);
        var others = evaluated.ToList();
        foreach (var table in others.Prepend(train))
        {
            table.RequireDataRows().RequireNonEmpty(textColumn, "text").RequireNonEmpty(labelColumn, "label");
            if (pairColumn is not null) table.RequireNonEmpty(pairColumn, "text");
        }

        var labels = train.GetColumn(labelColumn).Distinct(StringComparer.Ordinal).ToList();
        if (labels.Count < 2)
        {
            throw new InvalidDataException(
                $"{train.Source}: column '{labelColumn}' has a single label ('{labels[0]}') in all {train.RowCount} data row(s); " +
                "a classifier needs at least 2 different labels in training.");
        }

        var known = labels.ToHashSet(StringComparer.Ordinal);
        foreach (var table in others) RequireKnownLabels(table, labelColumn, known, train.Source);
        return labels;
    }

    private static void RequireKnownLabels(DelimitedTable table, string labelColumn, HashSet<string> known, string trainSource)
    {
        var values = table.GetColumn(labelColumn);
        var unseen = new Dictionary<string, int>(StringComparer.Ordinal);   // label -> rows, in first-seen order
        int firstRow = -1, rows = 0;
        for (int r = 0; r < values.Length; r++)
        {
            if (known.Contains(values[r])) continue;
            rows++;
            if (firstRow < 0) firstRow = r + 1;
            unseen[values[r]] = unseen.GetValueOrDefault(values[r]) + 1;
        }

        if (rows == 0) return;
        const int shown = 10;
        var list = string.Join(", ", unseen.Take(shown).Select(kv => $"'{kv.Key}' ({kv.Value} row{(kv.Value == 1 ? "" : "s")})"));
        if (unseen.Count > shown) list += $", and {unseen.Count - shown} more";
        throw new InvalidDataException(
            $"{table.Source}: column '{labelColumn}' has {unseen.Count} label(s) never seen in training ({trainSource}), in {rows} of " +
            $"{table.RowCount} data row(s): {list}; the first is data row {firstRow}. Labels in training: {string.Join(", ", known.Order(StringComparer.Ordinal))}.");
    }
}
