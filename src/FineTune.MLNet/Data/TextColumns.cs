using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Data;

/// <summary>Checks and reads the String columns of an <see cref="IDataView"/> (the SFT, DPO and classification inputs).</summary>
internal static class TextColumns
{
    /// <summary>The column must exist and be a String column; throws naming the role, the column, the expected and the actual type.</summary>
    public static void Check(DataViewSchema schema, string name, string role)
    {
        var col = schema.GetColumnOrNull(name)
                  ?? throw new ArgumentOutOfRangeException(role, $"{role} column '{name}' was not found in the input (columns: {string.Join(", ", schema.Select(c => c.Name))}).");
        if (col.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException(role, $"{role} column '{name}' must be of type String (text), but is {col.Type}.");
    }

    /// <summary>All rows of the named String columns, in row order; the schema is checked first.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or not text; the message names it.</exception>
    public static List<string[]> Read(IDataView data, params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(data);
        foreach (var name in columns) Check(data.Schema, name, name);
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
