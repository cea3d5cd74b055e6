namespace FineTune.MLNet.Export.Onnx;

/// <summary>Options of <see cref="OnnxDynamicQuantizer"/>.</summary>
public sealed record DynamicQuantizationOptions
{
    /// <summary>One int8 scale per output column of each weight (true, default) or one per weight tensor.</summary>
    public bool PerChannel { get; init; } = true;

    /// <summary>Also store embedding tables read by <c>Gather</c> as int8 with one scale per row (default true).</summary>
    public bool QuantizeEmbeddings { get; init; } = true;

    /// <summary>Weights with fewer elements than this stay float32 (default 0: all). Must be at least 0.</summary>
    public int MinimumElements { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (MinimumElements < 0)
            throw new ArgumentOutOfRangeException(nameof(MinimumElements), MinimumElements, "MinimumElements must be at least 0.");
    }
}
