using FineTune.MLNet.Losses;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training.Tasks.Dpo;

/// <summary>
/// Batch-mean DPO metrics with TRL's meaning (<c>DPOTrainer</c> logs): <see cref="ToTrlNames"/> gives them under TRL's
/// names (<c>rewards/chosen</c>, <c>rewards/rejected</c>, <c>rewards/accuracies</c>, <c>rewards/margins</c>,
/// <c>logps/chosen</c>, <c>logps/rejected</c>).
/// </summary>
/// <param name="Loss">Mean DPO loss.</param>
/// <param name="RewardsChosen">Mean β·(π_c − ref_c).</param>
/// <param name="RewardsRejected">Mean β·(π_r − ref_r).</param>
/// <param name="RewardsAccuracy">Fraction of pairs whose chosen reward is strictly above the rejected one.</param>
/// <param name="RewardsMargin">Mean chosen − rejected reward: the reward margin to watch (it should grow above 0).</param>
/// <param name="LogpsChosen">Mean summed policy log-prob of the chosen completions.</param>
/// <param name="LogpsRejected">Mean summed policy log-prob of the rejected completions.</param>
/// <param name="Pairs">Preference pairs averaged.</param>
public sealed record DpoMetrics(double Loss, double RewardsChosen, double RewardsRejected, double RewardsAccuracy, double RewardsMargin,
    double LogpsChosen, double LogpsRejected, long Pairs)
{
    /// <summary>The metrics under TRL's log names (plus <c>loss</c>).</summary>
    public IReadOnlyDictionary<string, double> ToTrlNames() => new Dictionary<string, double>
    {
        ["loss"] = Loss,
        ["rewards/chosen"] = RewardsChosen,
        ["rewards/rejected"] = RewardsRejected,
        ["rewards/accuracies"] = RewardsAccuracy,
        ["rewards/margins"] = RewardsMargin,
        ["logps/chosen"] = LogpsChosen,
        ["logps/rejected"] = LogpsRejected,
    };

    /// <summary>Key of the pair count in <see cref="ToReportNames"/> (TRL does not log it).</summary>
    internal const string PairsName = "pairs";

    /// <summary>The metrics as the training loop reports them (<see cref="Training.TrainingProgress.Metrics"/>): TRL's names plus the pair count.</summary>
    internal IReadOnlyDictionary<string, double> ToReportNames() =>
        new Dictionary<string, double>(ToTrlNames()) { [PairsName] = Pairs };

    /// <summary>Back from <see cref="ToReportNames"/>.</summary>
    internal static DpoMetrics FromReportNames(IReadOnlyDictionary<string, double> m) =>
        new(m["loss"], m["rewards/chosen"], m["rewards/rejected"], m["rewards/accuracies"], m["rewards/margins"],
            m["logps/chosen"], m["logps/rejected"], (long)m[PairsName]);

    /// <summary>One log line.</summary>
    public override string ToString() =>
        $"loss {Loss:F4}, rewards/chosen {RewardsChosen:F4}, rewards/rejected {RewardsRejected:F4}, rewards/margins {RewardsMargin:F4}, " +
        $"rewards/accuracies {RewardsAccuracy:P0}, logps/chosen {LogpsChosen:F2}, logps/rejected {LogpsRejected:F2}";

    /// <summary>
    /// Device-side sums (8) float64 of a batch: loss, chosen reward, rejected reward, correct pairs, margin, chosen
    /// log-prob, rejected log-prob, pair count. Summed across batches without a host sync; see <see cref="FromSums"/>.
    /// </summary>
    internal static Tensor Sums(DpoLossResult result, Tensor policyChosen, Tensor policyRejected)
    {
        using var scope = NewDisposeScope();
        var c = result.ChosenRewards;
        var r = result.RejectedRewards;
        var sums = stack(new[]
        {
            result.Losses.detach().sum(), c.sum(), r.sum(), c.gt(r).to(ScalarType.Float32).sum(), (c - r).sum(),
            policyChosen.detach().sum(), policyRejected.detach().sum(), tensor((float)c.shape[0], device: c.device),
        }).to(ScalarType.Float64);                                                                               // (8)
        return sums.MoveToOuterDisposeScope();
    }

    /// <summary>Means from <see cref="Sums"/> (one host read); null when no pair was summed.</summary>
    internal static DpoMetrics? FromSums(Tensor sums)
    {
        var s = sums.cpu().data<double>().ToArray();
        var n = s[7];
        return n <= 0 ? null : new DpoMetrics(s[0] / n, s[1] / n, s[2] / n, s[3] / n, s[4] / n, s[5] / n, s[6] / n, (long)n);
    }
}
