using FineTune.MLNet.Losses;
using FineTune.MLNet.Training.Tasks.Sft;

namespace FineTune.MLNet.Training.Tasks.Dpo;

/// <summary>
/// One tokenized preference pair: the prompt followed by the chosen completion, and the same prompt followed by the
/// rejected one. Each side is an <see cref="SftExample"/> whose labels mark the completion tokens (EOS included) and
/// <see cref="CausalLmLoss.IgnoreIndex"/> the prompt, so a completion's log-probability is the sum over labelled tokens
/// (TRL's <c>completion_mask</c>).
/// </summary>
public sealed record DpoExample(SftExample Chosen, SftExample Rejected)
{
    /// <summary>Tokens of both sequences (what one training pair costs).</summary>
    public int TokenCount => Chosen.Length + Rejected.Length;

    /// <summary>A pair from token ids: <paramref name="promptIds"/> unlabelled, each completion labelled with its ids.</summary>
    /// <exception cref="ArgumentException">The prompt or a completion is empty.</exception>
    public static DpoExample FromIds(IReadOnlyList<int> promptIds, IReadOnlyList<int> chosenIds, IReadOnlyList<int> rejectedIds)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        if (promptIds.Count == 0) throw new ArgumentException("The prompt must have at least one token (e.g. BOS).", nameof(promptIds));
        return new DpoExample(Side(promptIds, chosenIds, nameof(chosenIds)), Side(promptIds, rejectedIds, nameof(rejectedIds)));
    }

    private static SftExample Side(IReadOnlyList<int> prompt, IReadOnlyList<int> completion, string name)
    {
        ArgumentNullException.ThrowIfNull(completion, name);
        if (completion.Count == 0) throw new ArgumentException($"{name} must have at least one token.", name);
        int[] ids = [.. prompt, .. completion];
        int[] labels = [.. Enumerable.Repeat(CausalLmLoss.IgnoreIndex, prompt.Count), .. completion];
        return new SftExample(ids, labels, Truncated: false);
    }
}
