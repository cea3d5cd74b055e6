namespace FineTune.MLNet.Training;

/// <summary>
/// Deterministic batching by length: each epoch shuffles the examples (seeded by seed and epoch), sorts each window
/// of <c>batchSize × window</c> examples by length, cuts it into batches and shuffles the batches. Batches then hold
/// similar lengths, so dynamic padding wastes little compute, while the order stays random across epochs.
/// The order is a pure function of (seed, epoch), so a resumed run sees the same batches.
/// </summary>
public static class LengthBucketBatcher
{
    /// <summary>Batches of example indices for one epoch.</summary>
    /// <param name="lengths">Token count of each example.</param>
    public static IReadOnlyList<int[]> Batches(IReadOnlyList<int> lengths, int batchSize, int seed, int epoch, bool shuffle = true, int window = 50)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var order = Enumerable.Range(0, lengths.Count).ToArray();
        var rng = new Random(unchecked(seed * 1_000_003 + epoch * 7919 + 17));
        if (shuffle) rng.Shuffle(order);
        var batches = new List<int[]>();
        var windowSize = batchSize * Math.Max(1, window);
        for (var start = 0; start < order.Length; start += windowSize)
        {
            var chunk = order.Skip(start).Take(windowSize).OrderBy(i => lengths[i]).ThenBy(i => i).ToArray();
            for (var b = 0; b < chunk.Length; b += batchSize)
            {
                batches.Add(chunk.Skip(b).Take(batchSize).ToArray());
            }
        }
        var result = batches.ToArray();
        if (shuffle) rng.Shuffle(result);
        return result;
    }
}
