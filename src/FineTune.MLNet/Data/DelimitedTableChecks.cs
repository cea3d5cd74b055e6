namespace FineTune.MLNet.Data;

/// <summary>
/// Up-front checks of a <see cref="DelimitedTable"/> read from a user's file, so bad input is refused before any model is
/// loaded or trained. Each throws <see cref="InvalidDataException"/> naming the file (<see cref="DelimitedTable.Source"/>),
/// the column and the first offending data row (1-based, the header not counted).
/// </summary>
public static class DelimitedTableChecks
{
    /// <summary>The table has at least one data row below its header.</summary>
    public static DelimitedTable RequireDataRows(this DelimitedTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.RowCount == 0)
        {
            throw new InvalidDataException(
                $"{table.Source}: the file has a header ({string.Join(", ", table.Columns.Select(c => $"'{c}'"))}) but no data rows; " +
                "expected at least one row of data below the header.");
        }

        return table;
    }

    /// <summary>Every value of <paramref name="column"/> has a non-whitespace character.</summary>
    /// <param name="table">The table.</param>
    /// <param name="column">Column name (must exist: a missing one is a <see cref="KeyNotFoundException"/> listing the columns).</param>
    /// <param name="what">What the column holds, for the message (e.g. "text", "label").</param>
    public static DelimitedTable RequireNonEmpty(this DelimitedTable table, string column, string what)
    {
        ArgumentNullException.ThrowIfNull(table);
        int index = table.ColumnIndex(column);
        int empty = 0, first = -1;
        for (int r = 0; r < table.RowCount; r++)
        {
            if (!string.IsNullOrWhiteSpace(table.Rows[r][index])) continue;
            empty++;
            if (first < 0) first = r + 1;
        }

        if (empty > 0)
        {
            throw new InvalidDataException(
                $"{table.Source}: column '{column}' has an empty or whitespace-only {what} in {empty} of {table.RowCount} data row(s); " +
                $"the first is data row {first}. Every row needs a {what}.");
        }

        return table;
    }
}
