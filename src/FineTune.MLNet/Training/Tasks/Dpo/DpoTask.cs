using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Training.Tasks.Sft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training.Tasks.Dpo;

/// <summary>
/// DPO for <see cref="TrainingLoop"/>: the policy is the LoRA model with adapters on; the reference is the same model
/// with adapters off (<see cref="LlamaForCausalLM.DisableAdapters"/>) under <c>no_grad</c>, or its log-probs computed
/// once before training (<c>precomputeReference</c>, TRL's <c>precompute_ref_log_probs</c>). Loss:
/// <see cref="DpoLoss.Sigmoid"/>. Each batch returns its metric sums (<see cref="DpoMetrics.Sums"/>) with the loss; the loop
/// adds them up over an optimizer step and reads them once (<see cref="StepMetrics"/>). Validation reports the loss, the
/// reward accuracy and the same metrics.
/// </summary>
internal sealed class DpoTask : ITrainingTask, IDisposable
{
    private readonly LlamaForCausalLM _model;
    private readonly IReadOnlyList<DpoExample> _train;
    private readonly IReadOnlyList<DpoExample>? _valid;
    private readonly SftCollator _collator;
    private readonly double _beta;
    private readonly double _labelSmoothing;
    private readonly int _evalBatchSize;
    private readonly Device _device;
    private readonly Tensor? _referenceChosen;     // (N) when precomputed
    private readonly Tensor? _referenceRejected;   // (N)

    public DpoTask(LlamaForCausalLM model, IReadOnlyList<DpoExample> train, IReadOnlyList<DpoExample>? valid, SftCollator collator,
        double beta, double labelSmoothing, int evalBatchSize, Device device, bool precomputeReference)
    {
        if (model.Lora is null) throw new ArgumentException("DPO needs a model with LoRA adapters: the reference is the model with its adapters disabled.", nameof(model));
        _model = model;
        _train = train;
        _valid = valid;
        _collator = collator;
        _beta = beta;
        _labelSmoothing = labelSmoothing;
        _evalBatchSize = evalBatchSize;
        _device = device;
        Lengths = train.Select(e => Math.Max(e.Chosen.Length, e.Rejected.Length)).ToArray();
        if (precomputeReference) (_referenceChosen, _referenceRejected) = ReferenceOfAll(train);
    }

    public IReadOnlyList<int> Lengths { get; }

    public BatchLoss ComputeLoss(int[] rows)
    {
        var pairs = rows.Select(r => _train[r]).ToArray();
        var (policyChosen, policyRejected) = CompletionLogProbs.OfPairs(_model, pairs, _collator, _device);        // (B), (B)
        Tensor refChosen, refRejected;
        if (_referenceChosen is not null)
        {
            using var index = tensor(rows.Select(r => (long)r).ToArray(), device: _device);
            (refChosen, refRejected) = (_referenceChosen.index_select(0, index), _referenceRejected!.index_select(0, index));
        }
        else
        {
            (refChosen, refRejected) = Reference(pairs);
        }
        var result = DpoLoss.Sigmoid(policyChosen, policyRejected, refChosen, refRejected, _beta, _labelSmoothing);
        var sums = DpoMetrics.Sums(result, policyChosen, policyRejected);                                       // (8)
        return new BatchLoss(result.Losses.sum(), pairs.Length, pairs.Sum(p => (long)p.TokenCount), sums);    // summed over the pairs
    }

    /// <summary>The step's means from the summed <see cref="DpoMetrics.Sums"/> of its batches, under TRL's names.</summary>
    public IReadOnlyDictionary<string, double>? StepMetrics(Tensor sums) => DpoMetrics.FromSums(sums)?.ToReportNames();

    public ValidationResult? Validate()
    {
        if (_valid is not { Count: > 0 }) return null;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor? sums = null;
        for (var start = 0; start < _valid.Count; start += _evalBatchSize)
        {
            var pairs = _valid.Skip(start).Take(_evalBatchSize).ToArray();
            var (pc, pr) = CompletionLogProbs.OfPairs(_model, pairs, _collator, _device);
            var (rc, rr) = Reference(pairs);
            var batchSums = DpoMetrics.Sums(DpoLoss.Sigmoid(pc, pr, rc, rr, _beta, _labelSmoothing), pc, pr);
            sums = sums is null ? batchSums : sums.add_(batchSums);
        }
        var metrics = DpoMetrics.FromSums(sums!)!;
        return new ValidationResult(metrics.Loss, metrics.RewardsAccuracy, Metrics: metrics.ToReportNames());
    }

    public void Dispose()
    {
        _referenceChosen?.Dispose();
        _referenceRejected?.Dispose();
    }

    /// <summary>Reference log-probs: the same model with adapters off, without gradient.</summary>
    private (Tensor Chosen, Tensor Rejected) Reference(IReadOnlyList<DpoExample> pairs)
    {
        using var _ = no_grad();
        using (_model.DisableAdapters()) return CompletionLogProbs.OfPairs(_model, pairs, _collator, _device);
    }

    private (Tensor Chosen, Tensor Rejected) ReferenceOfAll(IReadOnlyList<DpoExample> pairs)
    {
        var chosen = new List<Tensor>();
        var rejected = new List<Tensor>();
        using var scope = NewDisposeScope();
        for (var start = 0; start < pairs.Count; start += _evalBatchSize)
        {
            var (c, r) = Reference(pairs.Skip(start).Take(_evalBatchSize).ToArray());
            chosen.Add(c);
            rejected.Add(r);
        }
        return (cat(chosen, 0).DetachFromDisposeScope(), cat(rejected, 0).DetachFromDisposeScope());   // (N), (N)
    }
}
