using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Training.Tasks.Sft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training.Tasks.Dpo;

/// <summary>
/// Summed completion log-probabilities of a causal LM, as TRL's DPO computes them: log-softmax of the logits at
/// position t scored at token t+1, kept where the label is not <see cref="CausalLmLoss.IgnoreIndex"/>, summed per row.
/// Checked against the numpy reference's <c>completion_logps</c> (Fixtures/dpo/golden.json, within 1e-4).
/// </summary>
public static class CompletionLogProbs
{
    /// <summary>Per-row sums (N) float32 from logits (N, T, V) and aligned labels (N, T).</summary>
    public static Tensor Sum(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var logProbs = logits[.., ..^1, ..].to(ScalarType.Float32).log_softmax(-1);   // (N, T−1, V)
        var target = labels[.., 1..];                                                   // (N, T−1)
        var scored = target.ne(CausalLmLoss.IgnoreIndex);                                 // (N, T−1)
        var picked = logProbs.gather(2, target.clamp_min(0).unsqueeze(-1)).squeeze(-1); // (N, T−1)
        return picked.where(scored, 0f).sum(1).MoveToOuterDisposeScope();               // (N)
    }

    /// <summary>
    /// Chosen and rejected log-probs of <paramref name="pairs"/> from ONE forward over the 2B right-padded sequences
    /// (chosen rows first), as TRL's concatenated forward. Gradients flow unless the caller is under <c>no_grad</c>.
    /// </summary>
    /// <returns>Chosen (B) and rejected (B), in the caller's dispose scope.</returns>
    public static (Tensor Chosen, Tensor Rejected) OfPairs(LlamaForCausalLM model, IReadOnlyList<DpoExample> pairs, SftCollator collator, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        using var scope = NewDisposeScope();
        var batch = collator.Collate(pairs.Select(p => p.Chosen).Concat(pairs.Select(p => p.Rejected)).ToList());
        using var t = batch.ToTensors(device);
        var logits = model.Forward(t.InputIds, t.AttentionMask, t.PositionIds);        // (2B, T, V)
        var sums = Sum(logits, t.Labels);                                               // (2B)
        long b = pairs.Count;
        return (sums[..(int)b].MoveToOuterDisposeScope(), sums[(int)b..].MoveToOuterDisposeScope());
    }
}
