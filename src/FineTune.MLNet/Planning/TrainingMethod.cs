namespace FineTune.MLNet.Planning;

/// <summary>How the weights train: all of them (<see cref="Full"/>), LoRA adapters of a rank over a frozen float32 base,
/// or QLoRA (the same adapters over an NF4 base).</summary>
/// <param name="Rank">LoRA rank; null for full fine-tuning.</param>
/// <param name="Quantized">The frozen base is stored as NF4 (QLoRA).</param>
/// <param name="LoraDropout">The adapters' input dropout: above 0 each adapted projection keeps its dropped-out input for
/// the backward (one more input-wide tensor per projection and token); at 0 (the default) the adapter reads the input
/// the base projection already keeps.</param>
public sealed record TrainingMethod(int? Rank, bool Quantized, double LoraDropout = 0)
{
    /// <summary>Full fine-tuning.</summary>
    public static TrainingMethod Full { get; } = new(null, false);

    /// <summary>LoRA of rank <paramref name="rank"/>.</summary>
    public static TrainingMethod Lora(int rank) => new(rank, false);

    /// <summary>QLoRA of rank <paramref name="rank"/>.</summary>
    public static TrainingMethod QLora(int rank) => new(rank, true);

    /// <summary><c>full</c>, <c>lora r=8</c>, <c>qlora r=8</c>.</summary>
    public string Name => Rank is { } r ? $"{(Quantized ? "qlora" : "lora")} r={r}" : "full";
}
