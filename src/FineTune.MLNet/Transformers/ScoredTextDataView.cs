using FineTune.MLNet.Classification;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// The input rows plus <c>Score</c> (class probabilities) and <c>PredictedLabel</c> (key), computed lazily in batches
/// through <see cref="LookaheadBatchCursor{TResult}"/>.
/// </summary>
internal sealed class ScoredTextDataView : IDataView
{
    private readonly IDataView _input;
    private readonly FineTunedTextClassifier _classifier;
    private readonly string _textColumn;
    private readonly string? _pairColumn;
    private readonly int _batchSize;
    private readonly bool _binary;

    public ScoredTextDataView(IDataView input, FineTunedTextClassifier classifier, string textColumn, string? pairColumn,
        string scoreColumn, string predictedLabelColumn, int batchSize, string? probabilityColumn = null)
    {
        _binary = probabilityColumn is not null;
        _input = input;
        _classifier = classifier;
        _textColumn = textColumn;
        _pairColumn = pairColumn;
        _batchSize = batchSize;
        Schema = _binary
            ? ClassifierOutputSchema.Binary(input.Schema, scoreColumn, probabilityColumn!, predictedLabelColumn)
            : ClassifierOutputSchema.Multiclass(input.Schema, classifier.Labels, scoreColumn, predictedLabelColumn);
    }

    public bool CanShuffle => false;
    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        string[] texts = _pairColumn is null ? [_textColumn] : [_textColumn, _pairColumn];
        return new LookaheadBatchCursor<float[]>(Schema, _input, columnsNeeded, texts, _batchSize,
            rows => _classifier.PredictProbabilities(rows.Select(r => r[0]).ToArray(), _pairColumn is null ? null : rows.Select(r => r[1]).ToArray(), _batchSize),
            OutputGetter);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private Delegate OutputGetter(LookaheadBatchCursor<float[]> cursor, int k)
    {
        if (_binary)
        {
            return k switch
            {
                0 => (ValueGetter<float>)((ref float v) => v = MathF.Log(MathF.Max(cursor.Current[1], 1e-30f)) - MathF.Log(MathF.Max(cursor.Current[0], 1e-30f))),
                1 => (ValueGetter<float>)((ref float v) => v = cursor.Current[1]),
                _ => (ValueGetter<bool>)((ref bool v) => v = cursor.Current[1] > 0.5f),
            };
        }
        var classes = _classifier.Labels.Count;
        if (k == 0)
        {
            return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
            {
                var editor = VBufferEditor.Create(ref v, classes);
                cursor.Current.AsSpan().CopyTo(editor.Values);
                v = editor.Commit();
            });
        }
        return (ValueGetter<uint>)((ref uint v) => v = (uint)ClassifierInference.ArgMax(cursor.Current) + 1);
    }
}
