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
    private readonly LlamaForCausalLM model;
    private readonly IReadOnlyList<DpoExample> train;
    private readonly IReadOnlyList<DpoExample>? valid;
    private readonly SftCollator collator;
    private readonly double beta;
    private readonly double labelSmoothing;
    private readonly int evalBatchSize;
    private readonly Device device;
    private readonly Tensor? referenceChosen;     // (N) when precomputed
    private readonly Tensor? referenceRejected;   // (N)

    public DpoTask(LlamaForCausalLM model, IReadOnlyList<DpoExample> train, IReadOnlyList<DpoExample>? valid, SftCollator collator,
        double beta, double labelSmoothing, int evalBatchSize, Device device, bool precomputeReference)
    {
        if (model.Lora is null) throw new ArgumentException("DPO needs a model with LoRA adapters: the reference is the model with its adapters disabled.", nameof(model));
        this.model = model;
        this.train = train;
        this.valid = valid;
        this.collator = collator;
        this.beta = beta;
        this.labelSmoothing = labelSmoothing;
        this.evalBatchSize = evalBatchSize;
        this.device = device;
        Lengths = train.Select(e => Math.Max(e.Chosen.Length, e.Rejected.Length)).ToArray();
        if (precomputeReference) (referenceChosen, referenceRejected) = ReferenceOfAll(train);
    }

    public IReadOnlyList<int> Lengths { get; }

    public BatchLoss ComputeLoss(int[] rows)
    {
        var pairs = rows.Select(r => train[r]).ToArray();
        var (policyChosen, policyRejected) = CompletionLogProbs.OfPairs(model, pairs, collator, device);        // (B), (B)
        Tensor refChosen, refRejected;
        if (referenceChosen is not null)
        {
            using var index = tensor(rows.Select(r => (long)r).ToArray(), device: device);
            (refChosen, refRejected) = (referenceChosen.index_select(0, index), referenceRejected!.index_select(0, index));
        }
        else
        {
            (refChosen, refRejected) = Reference(pairs);
        }
        var result = DpoLoss.Sigmoid(policyChosen, policyRejected, refChosen, refRejected, beta, labelSmoothing);
        var sums = DpoMetrics.Sums(result, policyChosen, policyRejected);                                       // (8)
        return new BatchLoss(result.Losses.sum(), pairs.Length, pairs.Sum(p => (long)p.TokenCount), sums);    // summed over the pairs
    }

    /// <summary>The step's means from the summed <see cref="DpoMetrics.Sums"/> of its batches, under TRL's names.</summary>
    public IReadOnlyDictionary<string, double>? StepMetrics(Tensor sums) => DpoMetrics.FromSums(sums)?.ToReportNames();

    public ValidationResult? Validate()
    {
        if (valid is not { Count: > 0 }) return null;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor? sums = null;
        for (var start = 0; start < valid.Count; start += evalBatchSize)
        {
            var pairs = valid.Skip(start).Take(evalBatchSize).ToArray();
            var (pc, pr) = CompletionLogProbs.OfPairs(model, pairs, collator, device);
            var (rc, rr) = Reference(pairs);
            var batchSums = DpoMetrics.Sums(DpoLoss.Sigmoid(pc, pr, rc, rr, beta, labelSmoothing), pc, pr);
            sums = sums is null ? batchSums : sums.add_(batchSums);
        }
        var metrics = DpoMetrics.FromSums(sums!)!;
        return new ValidationResult(metrics.Loss, metrics.RewardsAccuracy, Metrics: metrics.ToReportNames());
    }

    public void Dispose()
    {
        referenceChosen?.Dispose();
        referenceRejected?.Dispose();
    }

    /// <summary>Reference log-probs: the same model with adapters off, without gradient.</summary>
    private (Tensor Chosen, Tensor Rejected) Reference(IReadOnlyList<DpoExample> pairs)
    {
        using var _ = no_grad();
        using (model.DisableAdapters()) return CompletionLogProbs.OfPairs(model, pairs, collator, device);
    }

    private (Tensor Chosen, Tensor Rejected) ReferenceOfAll(IReadOnlyList<DpoExample> pairs)
    {
        var chosen = new List<Tensor>();
        var rejected = new List<Tensor>();
        using var scope = NewDisposeScope();
        for (var start = 0; start < pairs.Count; start += evalBatchSize)
        {
            var (c, r) = Reference(pairs.Skip(start).Take(evalBatchSize).ToArray());
            chosen.Add(c);
            rejected.Add(r);
        }
        return (cat(chosen, 0).DetachFromDisposeScope(), cat(rejected, 0).DetachFromDisposeScope());   // (N), (N)
    }
}
