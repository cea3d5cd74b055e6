using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// The classifier scenarios' batch (train-full, train-lora, profile, lora-overhead): B × T random word-piece ids
/// (seed 0) starting with [CLS], no padding, one token type, random labels. Tensors live in the caller's dispose scope.
/// </summary>
internal sealed record RandomBatch(Tensor Ids, Tensor Mask, Tensor Types, Tensor Labels)
{
    public static RandomBatch Create(BenchmarkSettings settings)
    {
        random.manual_seed(0);
        long b = settings.BatchSize, t = settings.SequenceLength;
        var ids = randint(1000, 30000, [b, t], dtype: ScalarType.Int64);   // (B, T)
        ids[TensorIndex.Colon, 0] = tensor(101L);                           // [CLS]
        var mask = ones([b, t], dtype: ScalarType.Int64);                     // (B, T)
        var types = zeros([b, t], dtype: ScalarType.Int64);                   // (B, T)
        var labels = randint(0, MiniLm.Labels, [b], dtype: ScalarType.Int64); // (B)
        return new RandomBatch(ids, mask, types, labels);
    }
}
