using FineTune.MLNet.Classification;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// The input rows plus <c>Score</c> (class probabilities) and <c>PredictedLabel</c> (key), computed lazily in batches:
/// a look-ahead cursor reads the text of the next batch and scores it in one forward pass while the main cursor serves
/// the input's own columns row by row.
/// </summary>
internal sealed class ScoredTextDataView : IDataView
{
    private readonly IDataView input;
    private readonly FineTunedTextClassifier classifier;
    private readonly string textColumn;
    private readonly string? pairColumn;
    private readonly int batchSize;
    private readonly int inputColumnCount;
    private readonly bool binary;

    public ScoredTextDataView(IDataView input, FineTunedTextClassifier classifier, string textColumn, string? pairColumn,
        string scoreColumn, string predictedLabelColumn, int batchSize, string? probabilityColumn = null)
    {
        binary = probabilityColumn is not null;
        this.input = input;
        this.classifier = classifier;
        this.textColumn = textColumn;
        this.pairColumn = pairColumn;
        this.batchSize = batchSize;
        inputColumnCount = input.Schema.Count;
        Schema = binary
            ? BinaryOutputSchema(input.Schema, scoreColumn, probabilityColumn!, predictedLabelColumn)
            : OutputSchema(input.Schema, classifier.Labels, scoreColumn, predictedLabelColumn);
    }

    public bool CanShuffle => false;
    public DataViewSchema Schema { get; }

    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        var inputNeeded = needed.Where(i => i < inputColumnCount).Select(i => input.Schema[i]).ToList();
        var scoring = needed.Any(i => i >= inputColumnCount);
        var main = input.GetRowCursor(inputNeeded);
        DataViewRowCursor? lookahead = null;
        if (scoring)
        {
            var textCols = new List<DataViewSchema.Column> { input.Schema[textColumn] };
            if (pairColumn is not null) textCols.Add(input.Schema[pairColumn]);
            lookahead = input.GetRowCursor(textCols);
        }
        return new Cursor(this, main, lookahead, needed);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    /// <summary>The input schema plus the score vector (with slot names) and the predicted key (with key values).</summary>
    public static DataViewSchema OutputSchema(DataViewSchema input, IReadOnlyList<string> labels, string scoreColumn, string predictedLabelColumn)
    {
        var names = new VBuffer<ReadOnlyMemory<char>>(labels.Count, labels.Select(l => l.AsMemory()).ToArray());
        var namesType = new VectorDataViewType(TextDataViewType.Instance, labels.Count);
        var scoreAnnotations = new DataViewSchema.Annotations.Builder();
        scoreAnnotations.Add("SlotNames", namesType, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        scoreAnnotations.Add("ScoreColumnKind", TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = "MulticlassClassification".AsMemory());
        scoreAnnotations.Add("ScoreValueKind", TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = "Score".AsMemory());
        var keyAnnotations = new DataViewSchema.Annotations.Builder();
        keyAnnotations.Add("KeyValues", namesType, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumn(scoreColumn, new VectorDataViewType(NumberDataViewType.Single, labels.Count), scoreAnnotations.ToAnnotations());
        builder.AddColumn(predictedLabelColumn, new KeyDataViewType(typeof(uint), labels.Count), keyAnnotations.ToAnnotations());
        return builder.ToSchema();
    }

    /// <summary>
    /// Binary tasks (Boolean label): <c>Score</c> = logit of the positive class (log p1 − log p0), <c>Probability</c> = p1,
    /// <c>PredictedLabel</c> = p1 &gt; 0.5, as <c>mlContext.BinaryClassification.Evaluate</c> expects.
    /// </summary>
    public static DataViewSchema BinaryOutputSchema(DataViewSchema input, string scoreColumn, string probabilityColumn, string predictedLabelColumn)
    {
        var scoreAnnotations = new DataViewSchema.Annotations.Builder();
        scoreAnnotations.Add("ScoreColumnKind", TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = "BinaryClassification".AsMemory());
        scoreAnnotations.Add("ScoreValueKind", TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = "Score".AsMemory());
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumn(scoreColumn, NumberDataViewType.Single, scoreAnnotations.ToAnnotations());
        builder.AddColumn(probabilityColumn, NumberDataViewType.Single);
        builder.AddColumn(predictedLabelColumn, BooleanDataViewType.Instance);
        return builder.ToSchema();
    }

    private sealed class Cursor(ScoredTextDataView parent, DataViewRowCursor main, DataViewRowCursor? lookahead, HashSet<int> active) : DataViewRowCursor
    {
        private readonly List<float[]> buffer = [];
        private long bufferStart;
        private long position = -1;

        public override DataViewSchema Schema => parent.Schema;
        public override long Position => position;
        public override long Batch => 0;

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
            var schema = parent.input.Schema;
            var text = lookahead!.GetGetter<ReadOnlyMemory<char>>(schema[parent.textColumn]);
            var pair = parent.pairColumn is null ? null : lookahead.GetGetter<ReadOnlyMemory<char>>(schema[parent.pairColumn]);
            var texts = new List<string>();
            var pairs = pair is null ? null : new List<string>();
            ReadOnlyMemory<char> t = default, p = default;
            while (texts.Count < parent.batchSize && lookahead.MoveNext())
            {
                text(ref t);
                var s = t.ToString();
                if (string.IsNullOrWhiteSpace(s))
                    throw new InvalidDataException($"Row {bufferStart + texts.Count} has an empty or whitespace-only text in column '{parent.textColumn}'.");
                texts.Add(s);
                if (pair is not null)
                {
                    pair(ref p);
                    var ps = p.ToString();
                    if (string.IsNullOrWhiteSpace(ps))
                        throw new InvalidDataException($"Row {bufferStart + texts.Count - 1} has an empty or whitespace-only text in column '{parent.pairColumn}'.");
                    pairs!.Add(ps);
                }
            }
            buffer.AddRange(parent.classifier.PredictProbabilities(texts, pairs, parent.batchSize));
        }

        private float[] Current => buffer[(int)(position - bufferStart)];

        public override ValueGetter<DataViewRowId> GetIdGetter() => main.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < parent.inputColumnCount) return main.GetGetter<TValue>(parent.input.Schema[column.Index]);
            if (!active.Contains(column.Index)) throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            var classes = parent.classifier.Labels.Count;
            if (parent.binary)
            {
                Delegate getter = (column.Index - parent.inputColumnCount) switch
                {
                    0 => (ValueGetter<float>)((ref float v) => v = MathF.Log(MathF.Max(Current[1], 1e-30f)) - MathF.Log(MathF.Max(Current[0], 1e-30f))),
                    1 => (ValueGetter<float>)((ref float v) => v = Current[1]),
                    _ => (ValueGetter<bool>)((ref bool v) => v = Current[1] > 0.5f),
                };
                return (ValueGetter<TValue>)getter;
            }
            if (column.Index == parent.inputColumnCount)
            {
                ValueGetter<VBuffer<float>> score = (ref VBuffer<float> v) =>
                {
                    var editor = VBufferEditor.Create(ref v, classes);
                    Current.AsSpan().CopyTo(editor.Values);
                    v = editor.Commit();
                };
                return (ValueGetter<TValue>)(Delegate)score;
            }
            ValueGetter<uint> predicted = (ref uint v) => v = (uint)Training.ClassifierInference.ArgMax(Current) + 1;
            return (ValueGetter<TValue>)(Delegate)predicted;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) { main.Dispose(); lookahead?.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
