namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>The examples built from a data set, with what happened on the way.</summary>
/// <param name="Examples">One example per input row, in input order.</param>
/// <param name="TruncatedCount">Examples that <see cref="SftDataOptions.MaxLength"/> cut.</param>
/// <param name="SupervisedTokenCount">Tokens carrying loss over all examples (always &gt; 0: a data set without any fails to build).</param>
/// <param name="ExamplesWithoutSupervisedTokens">Examples left with no supervised token (empty response and no EOS);
/// they add nothing to the loss.</param>
public sealed record SftDataset(
    IReadOnlyList<SftExample> Examples,
    int TruncatedCount,
    long SupervisedTokenCount,
    int ExamplesWithoutSupervisedTokens)
{
    /// <summary>Total tokens over all examples.</summary>
    public long TokenCount => Examples.Sum(e => (long)e.Length);
}
