using Microsoft.ML;
using Microsoft.ML.Data;
using FineTune.MLNet.Classification;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// Row-at-a-time scoring for <see cref="TextClassificationTransformer"/>, so <c>mlContext.Model.CreatePredictionEngine</c>
/// works. Each row is one forward pass (batch of one); use <see cref="TextClassificationTransformer.Transform"/> for bulk
/// scoring, which batches.
/// </summary>
internal sealed class ClassifierRowMapper(TextClassificationTransformer owner, DataViewSchema inputSchema) : IRowToRowMapper
{
    public DataViewSchema InputSchema { get; } = inputSchema;
    public DataViewSchema OutputSchema { get; } = owner.GetOutputSchema(inputSchema);

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = dependingColumns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]).ToList();
        if (dependingColumns.Any(c => c.Index >= InputSchema.Count))
        {
            needed.Add(InputSchema[owner.Columns.Text]);
            if (owner.Columns.Pair is { } pair) needed.Add(InputSchema[pair]);
        }
        return needed.DistinctBy(c => c.Index);
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new Row(owner, input, OutputSchema, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class Row(TextClassificationTransformer owner, DataViewRow input, DataViewSchema schema, HashSet<int> active) : DataViewRow
    {
        private long _cachedPosition = -1;
        private float[] _cached = [];

        public override DataViewSchema Schema => schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        /// <summary>Class probabilities of the input's current row, computed once per row.</summary>
        private float[] Probabilities()
        {
            if (_cachedPosition == input.Position) return _cached;
            var text = Read(owner.Columns.Text);
            var pair = owner.Columns.Pair is { } p ? Read(p) : null;
            _cached = owner.Classifier.PredictProbabilities([text], pair is null ? null : [pair], 1)[0];
            _cachedPosition = input.Position;
            return _cached;
        }

        private string Read(string column)
        {
            ReadOnlyMemory<char> value = default;
            input.GetGetter<ReadOnlyMemory<char>>(input.Schema[column])(ref value);
            var s = value.ToString();
            if (string.IsNullOrWhiteSpace(s)) throw new InvalidDataException($"Row {input.Position} has an empty or whitespace-only text in column '{column}'.");
            return s;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var inputCount = input.Schema.Count;
            if (column.Index < inputCount) return input.GetGetter<TValue>(input.Schema[column.Index]);
            var k = column.Index - inputCount;
            Delegate getter = owner.Columns.Binary
                ? k switch
                {
                    0 => (ValueGetter<float>)((ref float v) => { var q = Probabilities(); v = MathF.Log(MathF.Max(q[1], 1e-30f)) - MathF.Log(MathF.Max(q[0], 1e-30f)); }),
                    1 => (ValueGetter<float>)((ref float v) => v = Probabilities()[1]),
                    _ => (ValueGetter<bool>)((ref bool v) => v = Probabilities()[1] > 0.5f),
                }
                : k == 0
                    ? (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
                    {
                        var q = Probabilities();
                        var editor = VBufferEditor.Create(ref v, q.Length);
                        q.AsSpan().CopyTo(editor.Values);
                        v = editor.Commit();
                    })
                    : (ValueGetter<uint>)((ref uint v) => v = (uint)ClassifierInference.ArgMax(Probabilities()) + 1);
            return (ValueGetter<TValue>)getter;
        }
    }
}
