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
    private readonly DataViewSchema _schema;
    private readonly IDataView _input;
    private readonly DataViewRowCursor _main;
    private readonly DataViewRowCursor? _lookahead;
    private readonly string[] _textColumns;
    private readonly int _batchSize;
    private readonly Func<IReadOnlyList<string[]>, IReadOnlyList<TResult>> _computeBatch;
    private readonly Func<int, Delegate> _outputGetter;
    private readonly HashSet<int> _active;
    private readonly List<TResult> _buffer = [];
    private long _bufferStart;
    private long _position = -1;

    /// <param name="outputGetter">Getter of output column k (0-based after the input columns), reading <see cref="Current"/>.</param>
    public LookaheadBatchCursor(DataViewSchema schema, IDataView input, IEnumerable<DataViewSchema.Column> columnsNeeded, string[] textColumns,
        int batchSize, Func<IReadOnlyList<string[]>, IReadOnlyList<TResult>> computeBatch, Func<LookaheadBatchCursor<TResult>, int, Delegate> outputGetter)
    {
        _schema = schema;
        _input = input;
        _textColumns = textColumns;
        _batchSize = batchSize;
        _computeBatch = computeBatch;
        _active = columnsNeeded.Select(c => c.Index).ToHashSet();
        var inputCount = input.Schema.Count;
        _main = input.GetRowCursor(_active.Where(i => i < inputCount).Select(i => input.Schema[i]));
        if (_active.Any(i => i >= inputCount)) _lookahead = input.GetRowCursor(textColumns.Select(c => input.Schema[c]));
        _outputGetter = k => outputGetter(this, k);
    }

    public override DataViewSchema Schema => _schema;
    public override long Position => _position;
    public override long Batch => 0;

    /// <summary>The computed result of the current row.</summary>
    public TResult Current => _buffer[(int)(_position - _bufferStart)];

    public override bool MoveNext()
    {
        if (!_main.MoveNext()) return false;
        _position++;
        if (_lookahead is not null && _position >= _bufferStart + _buffer.Count) FillBuffer();
        return true;
    }

    private void FillBuffer()
    {
        _bufferStart = _position;
        _buffer.Clear();
        var getters = _textColumns.Select(c => _lookahead!.GetGetter<ReadOnlyMemory<char>>(_input.Schema[c])).ToArray();
        var rows = new List<string[]>();
        ReadOnlyMemory<char> value = default;
        while (rows.Count < _batchSize && _lookahead!.MoveNext())
        {
            var row = new string[getters.Length];
            for (var i = 0; i < getters.Length; i++)
            {
                getters[i](ref value);
                row[i] = value.ToString();
                if (string.IsNullOrWhiteSpace(row[i]))
                    throw new InvalidDataException($"Row {_bufferStart + rows.Count} has an empty or whitespace-only text in column '{_textColumns[i]}'.");
            }
            rows.Add(row);
        }
        _buffer.AddRange(_computeBatch(rows));
    }

    public override ValueGetter<DataViewRowId> GetIdGetter() => _main.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        var inputCount = _input.Schema.Count;
        if (column.Index < inputCount) return _main.GetGetter<TValue>(_input.Schema[column.Index]);
        if (!_active.Contains(column.Index)) throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
        return (ValueGetter<TValue>)_outputGetter(column.Index - inputCount);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _main.Dispose(); _lookahead?.Dispose(); }
        base.Dispose(disposing);
    }
}
