namespace FineTune.MLNet.Tokenization;

/// <summary>
/// One encoded input, specials included: <c>[CLS] a [SEP]</c> or <c>[CLS] a [SEP] b [SEP]</c>.
/// <see cref="TokenTypeIds"/> is 0 over <c>[CLS] a [SEP]</c> and 1 over <c>b [SEP]</c>.
/// </summary>
public sealed record EncodedSequence(int[] InputIds, int[] TokenTypeIds)
{
    /// <summary>Number of tokens, specials included.</summary>
    public int Length => InputIds.Length;
}
