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
    private readonly LlamaForCausalLM _model;
    private readonly IReadOnlyList<SftSequence> _train;
    private readonly IReadOnlyList<SftSequence>? _valid;
    private readonly SftCollator _collator;
    private readonly bool _packed;
    private readonly int _evalBatchSize;
    private readonly Device _device;

    public SftTask(LlamaForCausalLM model, IReadOnlyList<SftSequence> train, IReadOnlyList<SftSequence>? valid, SftCollator collator,
        bool packed, int evalBatchSize, Device device)
    {
        _model = model;
        _train = train;
        _valid = valid;
        _collator = collator;
        _packed = packed;
        _evalBatchSize = evalBatchSize;
        _device = device;
        Lengths = train.Select(s => s.InputIds.Length).ToArray();
        _supervisedTokens = train.Select(SupervisedTokens).ToArray();
    }

    private readonly int[] _supervisedTokens;

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
        var batch = _collator.Collate(rows.Select(r => _train[r]).ToArray());
        using var t = batch.ToTensors(_device);
        var hidden = Hidden(batch, t);                                        // (B, T, C)
        var (sum, _) = CausalLmLoss.SumNllChunked(hidden, _model.HeadWeight, t.Labels);   // (): logits only chunk by chunk
        return new BatchLoss(sum, rows.Sum(r => (double)_supervisedTokens[r]), rows.Sum(r => (long)_train[r].InputIds.Length));
    }

    public ValidationResult? Validate()
    {
        if (_valid is not { Count: > 0 }) return null;
        double sum = 0, count = 0;
        for (var start = 0; start < _valid.Count; start += _evalBatchSize)
        {
            using var scope = NewDisposeScope();
            var batch = _collator.Collate(_valid.Skip(start).Take(_evalBatchSize).ToArray());
            using var t = batch.ToTensors(_device);
            var (s, c) = CausalLmLoss.SumNllChunked(Hidden(batch, t), _model.HeadWeight, t.Labels);
            sum += s.item<float>();
            count += c.item<long>();
        }
        return new ValidationResult(count == 0 ? double.NaN : sum / count);
    }

    /// <summary>Final-norm hidden states (B, T, C) of a collated batch (the loss applies the head chunk by chunk).</summary>
    private Tensor Hidden(SftBatch batch, SftBatchTensors t)
    {
        using var scope = NewDisposeScope();
        var mask = _packed ? batch.CreateBlockCausalMask(_device) : t.AttentionMask;
        return _model.HiddenStates(t.InputIds, mask, t.PositionIds).MoveToOuterDisposeScope();
    }
}
