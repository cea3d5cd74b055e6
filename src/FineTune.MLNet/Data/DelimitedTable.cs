namespace FineTune.MLNet.Data;

/// <summary>
/// A delimited text file read into memory: the header's column names and every data row as strings
/// (each row has exactly <c>Columns.Count</c> fields).
/// </summary>
public sealed record DelimitedTable(IReadOnlyList<string> Columns, IReadOnlyList<string[]> Rows)
{
    /// <summary>Where the table came from (file path), used in error messages.</summary>
    public string Source { get; init; } = "<memory>";

    /// <summary>Number of data rows (the header excluded).</summary>
    public int RowCount => Rows.Count;

    /// <summary>0-based index of the column named <paramref name="name"/> (exact, case-sensitive match).</summary>
    /// <exception cref="KeyNotFoundException">No such column; the message names the file and lists the available columns.</exception>
    public int ColumnIndex(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (int i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        string hint = Columns.FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase)) is { } near
            ? $" (column names are case-sensitive; did you mean '{near}'?)"
            : string.Empty;
        throw new KeyNotFoundException(
            $"{Source}: no column named '{name}'{hint}. Available columns: {string.Join(", ", Columns.Select(c => $"'{c}'"))}.{DelimiterHint()}");
    }

    /// <summary>When the header was not split at all but holds another usual delimiter, the likely cause: the wrong one.</summary>
    private string DelimiterHint()
    {
        if (Columns.Count != 1) return string.Empty;
        foreach (var (c, name) in new[] { ('\t', "tab"), (',', "comma"), (';', "semicolon"), ('|', "pipe") })
        {
            if (Columns[0].Contains(c, StringComparison.Ordinal))
            {
                return $" Only one column was found, and its name contains a {name}: the file looks {name}-separated but was read " +
                       $"with another delimiter (.csv files are read as comma-separated, .tsv as tab-separated; rename the file or pass the delimiter).";
            }
        }

        return string.Empty;
    }

    /// <summary>All values of the column named <paramref name="name"/>, in row order.</summary>
    public string[] GetColumn(string name)
    {
        int index = ColumnIndex(name);
        var values = new string[Rows.Count];
        for (int r = 0; r < values.Length; r++)
        {
            values[r] = Rows[r][index];
        }

        return values;
    }
}
