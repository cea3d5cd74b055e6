using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// Supervised fine-tuning of a causal LM for <see cref="TrainingLoop"/>: completion-only next-token loss (labels −100 on
/// prompts and padding), right-padded batches, or packed rows with block-diagonal causal attention.
/// </summary>
internal sealed class SftTask : ITrainingTask
{
    private readonly LlamaForCausalLM model;
    private readonly IReadOnlyList<SftSequence> train;
    private readonly IReadOnlyList<SftSequence>? valid;
    private readonly SftCollator collator;
    private readonly bool packed;
    private readonly int evalBatchSize;
    private readonly Device device;

    public SftTask(LlamaForCausalLM model, IReadOnlyList<SftSequence> train, IReadOnlyList<SftSequence>? valid, SftCollator collator,
        bool packed, int evalBatchSize, Device device)
    {
        this.model = model;
        this.train = train;
        this.valid = valid;
        this.collator = collator;
        this.packed = packed;
        this.evalBatchSize = evalBatchSize;
        this.device = device;
        Lengths = train.Select(s => s.InputIds.Length).ToArray();
        supervisedTokens = train.Select(SupervisedTokens).ToArray();
    }

    private readonly int[] supervisedTokens;

    /// <summary>Labels that take a loss after the shift (position t predicts label t+1), as <see cref="CausalLmLoss.SumNll"/> counts them.</summary>
    private static int SupervisedTokens(SftSequence s)
    {
        var n = 0;
        for (var t = 1; t < s.Labels.Length; t++)
            if (s.Labels[t] != CausalLmLoss.IgnoreIndex) n++;
        return n;
    }

    public IReadOnlyList<int> Lengths { get; }

    public BatchLoss ComputeLoss(int[] rows)
    {
        var batch = collator.Collate(rows.Select(r => train[r]).ToArray());
        using var t = batch.ToTensors(device);
        var hidden = Hidden(batch, t);                                        // (B, T, C)
        var (sum, _) = CausalLmLoss.SumNllChunked(hidden, model.HeadWeight, t.Labels);   // (): logits only chunk by chunk
        return new BatchLoss(sum, rows.Sum(r => (double)supervisedTokens[r]), rows.Sum(r => (long)train[r].InputIds.Length));
    }

    public ValidationResult? Validate()
    {
        if (valid is not { Count: > 0 }) return null;
        double sum = 0, count = 0;
        for (var start = 0; start < valid.Count; start += evalBatchSize)
        {
            using var scope = NewDisposeScope();
            var batch = collator.Collate(valid.Skip(start).Take(evalBatchSize).ToArray());
            using var t = batch.ToTensors(device);
            var (s, c) = CausalLmLoss.SumNllChunked(Hidden(batch, t), model.HeadWeight, t.Labels);
            sum += s.item<float>();
            count += c.item<long>();
        }
        return new ValidationResult(count == 0 ? double.NaN : sum / count);
    }

    /// <summary>Final-norm hidden states (B, T, C) of a collated batch (the loss applies the head chunk by chunk).</summary>
    private Tensor Hidden(SftBatch batch, SftBatchTensors t)
    {
        using var scope = NewDisposeScope();
        var mask = packed ? batch.CreateBlockCausalMask(device) : t.AttentionMask;
        return model.HiddenStates(t.InputIds, mask, t.PositionIds).MoveToOuterDisposeScope();
    }
}
