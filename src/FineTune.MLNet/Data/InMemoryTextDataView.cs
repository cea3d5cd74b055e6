using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Data;

/// <summary>
/// A read-only ML.NET <see cref="IDataView"/> over string columns held in memory; every column has type
/// <see cref="TextDataViewType"/>. Supports shuffled cursors (a seeded permutation of the rows when a
/// <see cref="Random"/> is passed), so trainers may shuffle it.
/// </summary>
public sealed class InMemoryTextDataView : IDataView
{
    private readonly string[][] _columns;
    private readonly int _rowCount;

    /// <summary>Creates a view with one text column per name; <paramref name="columnValues"/>[i] holds column i's values in row order.</summary>
    public InMemoryTextDataView(IReadOnlyList<string> columnNames, IReadOnlyList<string[]> columnValues)
    {
        ArgumentNullException.ThrowIfNull(columnNames);
        ArgumentNullException.ThrowIfNull(columnValues);
        if (columnNames.Count == 0)
        {
            throw new ArgumentException("At least one column is required.", nameof(columnNames));
        }

        if (columnNames.Count != columnValues.Count)
        {
            throw new ArgumentException($"Got {columnNames.Count} column names but {columnValues.Count} value arrays.", nameof(columnValues));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var builder = new DataViewSchema.Builder();
        _columns = new string[columnNames.Count][];
        _rowCount = columnValues[0]?.Length ?? 0;
        for (int c = 0; c < columnNames.Count; c++)
        {
            string name = columnNames[c];
            if (string.IsNullOrEmpty(name) || !seen.Add(name))
            {
                throw new ArgumentException($"Column name #{c} '{name}' is empty or repeated; names must be unique.", nameof(columnNames));
            }

            var values = columnValues[c] ?? throw new ArgumentNullException(nameof(columnValues), $"Values of column '{name}' are null.");
            if (values.Length != _rowCount)
            {
                throw new ArgumentException(
                    $"Column '{name}' has {values.Length} values but column '{columnNames[0]}' has {_rowCount}; all columns need the same row count.",
                    nameof(columnValues));
            }

            _columns[c] = values;
            builder.AddColumn(name, TextDataViewType.Instance);
        }

        Schema = builder.ToSchema();
    }

    /// <inheritdoc />
    public DataViewSchema Schema { get; }

    /// <inheritdoc />
    public bool CanShuffle => true;

    /// <inheritdoc />
    public long? GetRowCount() => _rowCount;

    /// <inheritdoc />
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var active = new bool[_columns.Length];
        foreach (var column in columnsNeeded)
        {
            CheckOwnColumn(column);
            active[column.Index] = true;
        }

        return new Cursor(this, active, rand is null ? null : Permutation(_rowCount, rand));
    }

    /// <inheritdoc />
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private void CheckOwnColumn(DataViewSchema.Column column)
    {
        if (column.Index < 0 || column.Index >= _columns.Length || Schema[column.Index].Name != column.Name)
        {
            throw new ArgumentOutOfRangeException(
                nameof(column), $"Column '{column.Name}' (index {column.Index}) does not belong to this view's schema ({string.Join(", ", Schema.Select(c => c.Name))}).");
        }
    }

    private static int[] Permutation(int count, Random rand)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }

        rand.Shuffle(order);
        return order;
    }

    private sealed class Cursor(InMemoryTextDataView owner, bool[] active, int[]? order) : DataViewRowCursor
    {
        private long _position = -1;

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => owner.Schema;

        private int Row => order is null ? (int)_position : order[_position];

        public override bool MoveNext()
        {
            if (_position + 1 >= owner._rowCount)
            {
                _position = owner._rowCount;
                return false;
            }

            _position++;
            return true;
        }

        public override bool IsColumnActive(DataViewSchema.Column column)
        {
            owner.CheckOwnColumn(column);
            return active[column.Index];
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            owner.CheckOwnColumn(column);
            if (!active[column.Index])
            {
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
            }

            if (typeof(TValue) != typeof(ReadOnlyMemory<char>))
            {
                throw new InvalidOperationException(
                    $"Column '{column.Name}' is text: ask for a getter of ReadOnlyMemory<char>, not {typeof(TValue).Name}.");
            }

            string[] values = owner._columns[column.Index];
            ValueGetter<ReadOnlyMemory<char>> getter = (ref ReadOnlyMemory<char> value) =>
            {
                EnsureOnRow();
                value = values[Row].AsMemory();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) =>
        {
            EnsureOnRow();
            value = new DataViewRowId((ulong)Row, 0);
        };

        private void EnsureOnRow()
        {
            if (_position < 0 || _position >= owner._rowCount)
            {
                throw new InvalidOperationException("The cursor is not on a row: call MoveNext() and check that it returned true.");
            }
        }
    }
}
