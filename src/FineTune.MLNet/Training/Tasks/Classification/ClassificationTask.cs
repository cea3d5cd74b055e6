using FineTune.MLNet.Classification;
using FineTune.MLNet.Metrics;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Tokenization;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training.Tasks.Classification;

/// <summary>Sequence classification for <see cref="TrainingLoop"/>: cross-entropy over the classifier's logits.</summary>
internal sealed class ClassificationTask : ITrainingTask, IDisposable
{
    private readonly BertForSequenceClassification _model;
    private readonly WordPieceTokenizer _tokenizer;
    private readonly IReadOnlyList<LabeledText> _train;
    private readonly IReadOnlyList<LabeledText>? _valid;
    private readonly int _maxLength, _evalBatchSize;
    private readonly Device _device;
    private readonly Tensor? _classWeights;   // (C) or null
    private readonly float[]? _classWeightsOnHost;   // the same (C), to count a batch's items without a device read

    public ClassificationTask(BertForSequenceClassification model, WordPieceTokenizer tokenizer, IReadOnlyList<LabeledText> train,
        IReadOnlyList<LabeledText>? valid, int maxLength, int evalBatchSize, Device device, bool balanceClasses = false)
    {
        _model = model;
        _tokenizer = tokenizer;
        _train = train;
        _valid = valid;
        _maxLength = maxLength;
        _evalBatchSize = evalBatchSize;
        _device = device;
        if (balanceClasses)
        {
            var classes = model.Config.NumLabels;
            var counts = new double[classes];
            foreach (var e in train) counts[e.Label]++;
            _classWeightsOnHost = counts.Select(c => c == 0 ? 0f : (float)(train.Count / (classes * c))).ToArray();
            _classWeights = tensor(_classWeightsOnHost, device: device).DetachFromDisposeScope();
        }
        Lengths = train.Select(e => Math.Min(maxLength, e.Pair is null ? tokenizer.CountTokens(e.Text) : tokenizer.CountTokens(e.Text, e.Pair))).ToArray();
    }

    public IReadOnlyList<int> Lengths { get; }

    public BatchLoss ComputeLoss(int[] rows)
    {
        using var batch = ClassifierBatch.Create(_tokenizer, _train, rows, _maxLength, _device, withLabels: true);
        var logits = _model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);     // (B, C)
        var lossSum = nn.functional.cross_entropy(logits, batch.Labels!, _classWeights, reduction: nn.Reduction.Sum);   // () Σ w_y · nll
        // PyTorch's weighted mean divides by the summed weights of the targets; without weights, by the examples.
        var items = _classWeightsOnHost is null ? rows.Length : rows.Sum(r => (double)_classWeightsOnHost[_train[r].Label]);
        return new BatchLoss(lossSum, items, batch.Tokens);
    }

    public ValidationResult? Validate()
    {
        if (_valid is not { Count: > 0 }) return null;
        var probs = ClassifierInference.Probabilities(_model, _tokenizer, _valid, _evalBatchSize, _maxLength, _device);
        var m = ClassificationMetrics.Compute(_valid.Select(v => v.Label).ToArray(), probs.Select(ClassifierInference.ArgMax).ToArray(), probs[0].Length);
        return new ValidationResult(ClassifierInference.Loss(probs, _valid), m.Accuracy, m.MacroF1);
    }

    public void Dispose() => _classWeights?.Dispose();
}
