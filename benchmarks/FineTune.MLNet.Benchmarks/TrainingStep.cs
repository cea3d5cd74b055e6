using System.Diagnostics;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Training;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// One optimizer step exactly as <c>ClassifierTrainer</c> takes it (forward, cross-entropy, backward, gradient clipping
/// at 1.0, AdamW, zero grad), with the wall time of each phase. CPU tensors run synchronously, so phase times are exact.
/// </summary>
internal sealed class TrainingStep : IDisposable
{
    private readonly BertForSequenceClassification model;
    private readonly AdamW optimizer;

    public TrainingStep(BertForSequenceClassification model)
    {
        this.model = model;
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        optimizer = new AdamW(trainable.Select(p => (p.name, p.parameter)), weightDecay: 0.01,
            name => !(name.EndsWith(".bias") || name.Contains("LayerNorm.")));
        model.train();
    }

    /// <summary>Seconds spent in forward (with the loss), backward and the optimizer (clip + AdamW + zero grad).</summary>
    public (double Forward, double Backward, double Optimizer) Run(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        var logits = model.forward(inputIds, attentionMask, tokenTypeIds);   // (B, C)
        var loss = nn.functional.cross_entropy(logits, labels);               // ()
        var forward = clock.Elapsed.TotalSeconds;
        loss.backward();
        var backward = clock.Elapsed.TotalSeconds - forward;
        nn.utils.clip_grad_norm_(optimizer.Parameters, 1.0);
        optimizer.Step(2e-5);
        optimizer.ZeroGrad();
        var total = clock.Elapsed.TotalSeconds;
        if (!float.IsFinite(loss.item<float>())) throw new InvalidOperationException("Benchmark training loss is not finite.");
        return (forward, backward, total - forward - backward);
    }

    public void Dispose() => optimizer.Dispose();
}
