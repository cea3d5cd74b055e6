using FineTune.MLNet.Classification;
using FineTune.MLNet.Metrics;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Tokenization;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training.Tasks.Classification;

/// <summary>Sequence classification for <see cref="TrainingLoop"/>: cross-entropy over the classifier's logits.</summary>
internal sealed class ClassificationTask : ITrainingTask, IDisposable
{
    private readonly BertForSequenceClassification model;
    private readonly WordPieceTokenizer tokenizer;
    private readonly IReadOnlyList<LabeledText> train;
    private readonly IReadOnlyList<LabeledText>? valid;
    private readonly int maxLength, evalBatchSize;
    private readonly Device device;
    private readonly Tensor? classWeights;   // (C) or null
    private readonly float[]? classWeightsOnHost;   // the same (C), to count a batch's items without a device read

    public ClassificationTask(BertForSequenceClassification model, WordPieceTokenizer tokenizer, IReadOnlyList<LabeledText> train,
        IReadOnlyList<LabeledText>? valid, int maxLength, int evalBatchSize, Device device, bool balanceClasses = false)
    {
        this.model = model;
        this.tokenizer = tokenizer;
        this.train = train;
        this.valid = valid;
        this.maxLength = maxLength;
        this.evalBatchSize = evalBatchSize;
        this.device = device;
        if (balanceClasses)
        {
            var classes = model.Config.NumLabels;
            var counts = new double[classes];
            foreach (var e in train) counts[e.Label]++;
            classWeightsOnHost = counts.Select(c => c == 0 ? 0f : (float)(train.Count / (classes * c))).ToArray();
            classWeights = tensor(classWeightsOnHost, device: device).DetachFromDisposeScope();
        }
        Lengths = train.Select(e => Math.Min(maxLength, e.Pair is null ? tokenizer.CountTokens(e.Text) : tokenizer.CountTokens(e.Text, e.Pair))).ToArray();
    }

    public IReadOnlyList<int> Lengths { get; }

    public BatchLoss ComputeLoss(int[] rows)
    {
        using var batch = ClassifierBatch.Create(tokenizer, train, rows, maxLength, device, withLabels: true);
        var logits = model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);     // (B, C)
        var lossSum = nn.functional.cross_entropy(logits, batch.Labels!, classWeights, reduction: nn.Reduction.Sum);   // () Σ w_y · nll
        // PyTorch's weighted mean divides by the summed weights of the targets; without weights, by the examples.
        var items = classWeightsOnHost is null ? rows.Length : rows.Sum(r => (double)classWeightsOnHost[train[r].Label]);
        return new BatchLoss(lossSum, items, batch.Tokens);
    }

    public ValidationResult? Validate()
    {
        if (valid is not { Count: > 0 }) return null;
        var probs = ClassifierInference.Probabilities(model, tokenizer, valid, evalBatchSize, maxLength, device);
        var m = ClassificationMetrics.Compute(valid.Select(v => v.Label).ToArray(), probs.Select(ClassifierInference.ArgMax).ToArray(), probs[0].Length);
        return new ValidationResult(ClassifierInference.Loss(probs, valid), m.Accuracy, m.MacroF1);
    }

    public void Dispose() => classWeights?.Dispose();
}
