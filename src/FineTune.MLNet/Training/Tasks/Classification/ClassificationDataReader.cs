using FineTune.MLNet.Classification;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Training.Tasks.Classification;

/// <summary>Checks the input schema and reads text/label columns of an <see cref="IDataView"/> into examples.</summary>
internal static class ClassificationDataReader
{
    /// <summary>Label names of a binary (Boolean) label column: class 0 is false, class 1 is true.</summary>
    public static readonly IReadOnlyList<string> BinaryLabels = ["False", "True"];

    /// <summary>
    /// The label column must be a key over UInt32 (multiclass; names from its KeyValues) or Boolean (binary);
    /// returns the label names.
    /// </summary>
    public static IReadOnlyList<string> CheckLabelColumn(DataViewSchema schema, string name)
    {
        var col = schema.GetColumnOrNull(name)
                  ?? throw new ArgumentOutOfRangeException("Label", $"Label column '{name}' was not found in the input (columns: {string.Join(", ", schema.Select(c => c.Name))}).");
        if (col.Type is BooleanDataViewType) return BinaryLabels;
        if (col.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentOutOfRangeException("Label", $"Label column '{name}' must be a key type (UInt32) or Boolean, but is {col.Type}. Convert it with mlContext.Transforms.Conversion.MapValueToKey(\"{name}\").");
        if (key.Count < 2 || key.Count > 100_000)
            throw new ArgumentOutOfRangeException("Label", $"Label column '{name}' has {key.Count} classes; 2..100000 are supported.");
        var names = new VBuffer<ReadOnlyMemory<char>>();
        if (col.Annotations.Schema.GetColumnOrNull("KeyValues") is not null)
        {
            col.Annotations.GetValue("KeyValues", ref names);
            return names.DenseValues().Select(v => v.ToString()).ToList();
        }
        return Enumerable.Range(0, (int)key.Count).Select(i => (i + 1).ToString()).ToList();
    }

    /// <summary>
    /// The data has at least one row (checked before the label column's class count, which an empty set also breaks,
    /// so the message says what is wrong).
    /// </summary>
    public static void RequireRows(IDataView data, string what)
    {
        if (data.GetRowCount() is > 0) return;
        using var cursor = data.GetRowCursor([]);
        if (!cursor.MoveNext()) throw new InvalidDataException($"{what} has no rows; at least one is required.");
    }

    /// <summary>Reads all rows; empty texts and missing labels are errors naming the column and row.</summary>
    public static List<LabeledText> Read(IDataView data, string textColumn, string? pairColumn, string? labelColumn, string what)
    {
        var schema = data.Schema;
        var cols = new List<DataViewSchema.Column> { schema[textColumn] };
        if (pairColumn is not null) cols.Add(schema[pairColumn]);
        if (labelColumn is not null) cols.Add(schema[labelColumn]);
        var rows = new List<LabeledText>();
        using var cursor = data.GetRowCursor(cols);
        var text = cursor.GetGetter<ReadOnlyMemory<char>>(schema[textColumn]);
        var pair = pairColumn is null ? null : cursor.GetGetter<ReadOnlyMemory<char>>(schema[pairColumn]);
        var binary = labelColumn is not null && schema[labelColumn].Type is BooleanDataViewType;
        var label = labelColumn is null || binary ? null : cursor.GetGetter<uint>(schema[labelColumn]);
        var flag = binary ? cursor.GetGetter<bool>(schema[labelColumn!]) : null;
        var b = false;
        ReadOnlyMemory<char> t = default, p = default;
        uint l = 0;
        var row = 0;
        int missing = 0, firstMissing = -1;
        while (cursor.MoveNext())
        {
            text(ref t);
            var s = t.ToString();
            if (string.IsNullOrWhiteSpace(s)) throw new InvalidDataException($"{what}: row {row} has an empty or whitespace-only text in column '{textColumn}'.");
            string? ps = null;
            if (pair is not null)
            {
                pair(ref p);
                ps = p.ToString();
                if (string.IsNullOrWhiteSpace(ps)) throw new InvalidDataException($"{what}: row {row} has an empty or whitespace-only text in column '{pairColumn}'.");
            }
            var index = -1;
            if (label is not null)
            {
                label(ref l);
                if (l == 0)
                {
                    missing++;
                    if (firstMissing < 0) firstMissing = row;
                }
                index = (int)l - 1;
            }
            else if (flag is not null)
            {
                flag(ref b);
                index = b ? 1 : 0;
            }
            rows.Add(new LabeledText(s, ps, index));
            row++;
        }
        if (rows.Count == 0) throw new InvalidDataException($"{what} has no rows.");
        if (missing > 0)
            throw new InvalidDataException($"{what}: {missing} of {rows.Count} row(s) have a missing label in column '{labelColumn}' (a value not in the key's dictionary, " +
                                           $"e.g. a label unseen in training); the first is row {firstMissing}.");
        return rows;
    }
}
