using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// A row cursor over the input plus columns computed in batches: a look-ahead cursor reads the text columns of the next
/// <c>batchSize</c> rows and hands them to <c>computeBatch</c> in one call, while the main cursor serves the input's
/// own columns row by row. <see cref="Current"/> is the computed result of the current row.
/// </summary>
internal sealed class LookaheadBatchCursor<TResult> : DataViewRowCursor
{
    private readonly DataViewSchema schema;
    private readonly IDataView input;
    private readonly DataViewRowCursor main;
    private readonly DataViewRowCursor? lookahead;
    private readonly string[] textColumns;
    private readonly int batchSize;
    private readonly Func<IReadOnlyList<string[]>, IReadOnlyList<TResult>> computeBatch;
    private readonly Func<int, Delegate> outputGetter;
    private readonly HashSet<int> active;
    private readonly List<TResult> buffer = [];
    private long bufferStart;
    private long position = -1;

    /// <param name="outputGetter">Getter of output column k (0-based after the input columns), reading <see cref="Current"/>.</param>
    public LookaheadBatchCursor(DataViewSchema schema, IDataView input, IEnumerable<DataViewSchema.Column> columnsNeeded, string[] textColumns,
        int batchSize, Func<IReadOnlyList<string[]>, IReadOnlyList<TResult>> computeBatch, Func<LookaheadBatchCursor<TResult>, int, Delegate> outputGetter)
    {
        this.schema = schema;
        this.input = input;
        this.textColumns = textColumns;
        this.batchSize = batchSize;
        this.computeBatch = computeBatch;
        active = columnsNeeded.Select(c => c.Index).ToHashSet();
        var inputCount = input.Schema.Count;
        main = input.GetRowCursor(active.Where(i => i < inputCount).Select(i => input.Schema[i]));
        if (active.Any(i => i >= inputCount)) lookahead = input.GetRowCursor(textColumns.Select(c => input.Schema[c]));
        this.outputGetter = k => outputGetter(this, k);
    }

    public override DataViewSchema Schema => schema;
    public override long Position => position;
    public override long Batch => 0;

    /// <summary>The computed result of the current row.</summary>
    public TResult Current => buffer[(int)(position - bufferStart)];

    public override bool MoveNext()
    {
        if (!main.MoveNext()) return false;
        position++;
        if (lookahead is not null && position >= bufferStart + buffer.Count) FillBuffer();
        return true;
    }

    private void FillBuffer()
    {
        bufferStart = position;
        buffer.Clear();
        var getters = textColumns.Select(c => lookahead!.GetGetter<ReadOnlyMemory<char>>(input.Schema[c])).ToArray();
        var rows = new List<string[]>();
        ReadOnlyMemory<char> value = default;
        while (rows.Count < batchSize && lookahead!.MoveNext())
        {
            var row = new string[getters.Length];
            for (var i = 0; i < getters.Length; i++)
            {
                getters[i](ref value);
                row[i] = value.ToString();
                if (string.IsNullOrWhiteSpace(row[i]))
                    throw new InvalidDataException($"Row {bufferStart + rows.Count} has an empty or whitespace-only text in column '{textColumns[i]}'.");
            }
            rows.Add(row);
        }
        buffer.AddRange(computeBatch(rows));
    }

    public override ValueGetter<DataViewRowId> GetIdGetter() => main.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        var inputCount = input.Schema.Count;
        if (column.Index < inputCount) return main.GetGetter<TValue>(input.Schema[column.Index]);
        if (!active.Contains(column.Index)) throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
        return (ValueGetter<TValue>)outputGetter(column.Index - inputCount);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { main.Dispose(); lookahead?.Dispose(); }
        base.Dispose(disposing);
    }
}
