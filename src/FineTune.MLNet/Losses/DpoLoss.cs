using static TorchSharp.torch;

namespace FineTune.MLNet.Losses;

/// <summary>
/// Direct Preference Optimization loss, sigmoid form (Rafailov et al. 2023, "Direct Preference Optimization: Your
/// Language Model is Secretly a Reward Model", eq. 7), as TRL's <c>DPOTrainer</c> computes it for
/// <c>loss_type="sigmoid"</c> (<c>trl/trainer/dpo_trainer.py</c>), with the optional conservative-DPO label smoothing
/// (cDPO, Mitchell 2023) TRL 0.12–0.28 applied there:
/// <c>loss = mean(−(1−ε)·logσ(β·Δ) − ε·logσ(−β·Δ))</c>, <c>Δ = (π_c − π_r) − (ref_c − ref_r)</c>, where each term is a
/// summed completion log-probability. Pure: no state, no host sync. Checked against the numpy reference's
/// <c>dpo_sigmoid</c> (Fixtures/dpo/golden.json).
/// </summary>
public static class DpoLoss
{
    /// <summary>The sigmoid DPO loss of a batch of B preference pairs.</summary>
    /// <param name="policyChosen">(B) summed log-probs of the chosen completions under the policy (with gradient).</param>
    /// <param name="policyRejected">(B) the same for the rejected completions.</param>
    /// <param name="referenceChosen">(B) chosen log-probs under the reference model (no gradient needed).</param>
    /// <param name="referenceRejected">(B) rejected log-probs under the reference model.</param>
    /// <param name="beta">Temperature β &gt; 0 of the implicit reward (TRL default 0.1).</param>
    /// <param name="labelSmoothing">cDPO ε in [0, 0.5): the assumed probability that a preference label is flipped.</param>
    /// <returns>The loss and the per-pair values (in the caller's dispose scope).</returns>
    public static DpoLossResult Sigmoid(Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected,
        double beta, double labelSmoothing = 0)
    {
        ArgumentNullException.ThrowIfNull(policyChosen);
        ArgumentNullException.ThrowIfNull(policyRejected);
        ArgumentNullException.ThrowIfNull(referenceChosen);
        ArgumentNullException.ThrowIfNull(referenceRejected);
        if (!(beta > 0) || !double.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be a finite number > 0.");
        if (labelSmoothing is < 0 or >= 0.5) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "labelSmoothing must be in [0, 0.5).");
        if (policyChosen.ndim != 1) throw new ArgumentException($"policyChosen must be 1-D (B), but has shape [{string.Join(",", policyChosen.shape)}].", nameof(policyChosen));
        foreach (var (t, name) in new[] { (policyRejected, nameof(policyRejected)), (referenceChosen, nameof(referenceChosen)), (referenceRejected, nameof(referenceRejected)) })
        {
            if (!t.shape.SequenceEqual(policyChosen.shape))
                throw new ArgumentException($"{name} has shape [{string.Join(",", t.shape)}], expected [{string.Join(",", policyChosen.shape)}] like policyChosen.", name);
        }

        using var scope = NewDisposeScope();
        var chosenLogRatios = policyChosen - referenceChosen.detach();                                          // (B)
        var rejectedLogRatios = policyRejected - referenceRejected.detach();                                    // (B)
        var scaled = (chosenLogRatios - rejectedLogRatios).mul(beta);                                           // (B) β·Δ
        var losses = nn.functional.logsigmoid(scaled).mul(-(1 - labelSmoothing));                              // (B)
        if (labelSmoothing > 0) losses = losses - nn.functional.logsigmoid(scaled.neg()).mul(labelSmoothing);
        var chosenRewards = chosenLogRatios.detach().mul(beta);                                                 // (B)
        var rejectedRewards = rejectedLogRatios.detach().mul(beta);                                             // (B)
        return new DpoLossResult(losses.mean().MoveToOuterDisposeScope(), losses.MoveToOuterDisposeScope(),
            chosenRewards.MoveToOuterDisposeScope(), rejectedRewards.MoveToOuterDisposeScope());
    }
}

/// <summary>Outcome of <see cref="DpoLoss.Sigmoid"/>.</summary>
/// <param name="Loss">Scalar mean loss, with the policy's gradient.</param>
/// <param name="Losses">(B) per-pair losses.</param>
/// <param name="ChosenRewards">(B) detached implicit rewards β·(π_c − ref_c) (TRL <c>rewards/chosen</c> before the mean).</param>
/// <param name="RejectedRewards">(B) detached β·(π_r − ref_r).</param>
public sealed record DpoLossResult(Tensor Loss, Tensor Losses, Tensor ChosenRewards, Tensor RejectedRewards);
