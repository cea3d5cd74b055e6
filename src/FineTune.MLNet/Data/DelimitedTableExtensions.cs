using Microsoft.ML;

namespace FineTune.MLNet.Data;

/// <summary>Turns a <see cref="DelimitedTable"/> into ML.NET data.</summary>
public static class DelimitedTableExtensions
{
    /// <summary>
    /// An <see cref="IDataView"/> with the selected columns (all of them when none are named), each as a text column
    /// of the same name, rows in file order.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A named column is missing; the message names the file and lists the columns.</exception>
    public static IDataView ToDataView(this DelimitedTable table, MLContext ml, params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(columns);
        IReadOnlyList<string> selected = columns.Length == 0 ? table.Columns : columns;
        var values = selected.Select(table.GetColumn).ToArray();
        return new InMemoryTextDataView(selected, values);
    }
}
