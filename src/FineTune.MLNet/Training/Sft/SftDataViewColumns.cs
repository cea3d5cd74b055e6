using FineTune.MLNet.Estimators;
using Microsoft.ML;

namespace FineTune.MLNet.Training.Sft;

/// <summary>Reads the text columns of an <see cref="IDataView"/> for <see cref="SftExampleBuilder"/>.</summary>
internal static class SftDataViewColumns
{
    /// <summary>All rows of the named String columns, in row order; the schema is checked first.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or not text; the message names it.</exception>
    public static List<string[]> Read(IDataView data, params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(data);
        foreach (var name in columns) ClassificationDataReader.CheckTextColumn(data.Schema, name, name);
        var schemaColumns = columns.Select(c => data.Schema[c]).ToList();
        using var cursor = data.GetRowCursor(schemaColumns);
        var getters = schemaColumns.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToList();
        var rows = new List<string[]>();
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            var row = new string[columns.Length];
            for (int i = 0; i < columns.Length; i++)
            {
                getters[i](ref value);
                row[i] = value.ToString();
            }
            rows.Add(row);
        }
        return rows;
    }
}
