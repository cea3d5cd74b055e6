using System.Text.Json.Serialization;

namespace FineTune.MLNet.Formats.HuggingFace;

/// <summary>
/// HF <c>rope_scaling</c> (transformers <c>modeling_rope_utils.py</c>): <c>default</c> (none), <c>linear</c>
/// (inv_freq / factor) or <c>llama3</c> (Llama 3.1 frequency-dependent scaling). Other types (yarn, dynamic,
/// longrope, ...) are rejected when the config is read.
/// </summary>
public sealed record RopeScaling
{
    /// <summary>Rope types this library computes.</summary>
    public static readonly IReadOnlyList<string> SupportedTypes = ["default", "linear", "llama3"];

    /// <summary><c>rope_type</c> (older configs: <c>type</c>).</summary>
    [JsonPropertyName("rope_type")] public string RopeType { get; init; } = "default";

    /// <summary>Context extension factor (<c>factor</c>), &gt;= 1 for llama3, &gt; 0 for linear.</summary>
    [JsonPropertyName("factor")] public double Factor { get; init; } = 1;

    /// <summary>llama3 <c>low_freq_factor</c> (Llama 3.1: 1).</summary>
    [JsonPropertyName("low_freq_factor")] public double LowFreqFactor { get; init; } = 1;

    /// <summary>llama3 <c>high_freq_factor</c> (Llama 3.1: 4); must exceed <see cref="LowFreqFactor"/>.</summary>
    [JsonPropertyName("high_freq_factor")] public double HighFreqFactor { get; init; } = 4;

    /// <summary>llama3 <c>original_max_position_embeddings</c> (Llama 3.1: 8192).</summary>
    [JsonPropertyName("original_max_position_embeddings")] public int OriginalMaxPositionEmbeddings { get; init; } = 8192;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field (as <c>rope_scaling.&lt;key&gt;</c>).</summary>
    public void Validate()
    {
        if (!SupportedTypes.Contains(RopeType))
        {
            throw new ArgumentException(
                $"rope_scaling.rope_type '{RopeType}' is not supported; supported: {string.Join(", ", SupportedTypes)}.", "rope_scaling.rope_type");
        }
        if (RopeType == "default") return;
        if (!(Factor > 0) || !double.IsFinite(Factor))
            throw new ArgumentException($"rope_scaling.factor must be a finite number > 0, got {Factor}.", "rope_scaling.factor");
        if (RopeType != "llama3") return;
        if (Factor < 1) throw new ArgumentException($"rope_scaling.factor must be >= 1 for llama3, got {Factor}.", "rope_scaling.factor");
        if (!(LowFreqFactor > 0)) throw new ArgumentException($"rope_scaling.low_freq_factor must be > 0, got {LowFreqFactor}.", "rope_scaling.low_freq_factor");
        if (!(HighFreqFactor > LowFreqFactor))
            throw new ArgumentException($"rope_scaling.high_freq_factor ({HighFreqFactor}) must be greater than low_freq_factor ({LowFreqFactor}).", "rope_scaling.high_freq_factor");
        if (OriginalMaxPositionEmbeddings <= 0)
            throw new ArgumentException($"rope_scaling.original_max_position_embeddings must be > 0, got {OriginalMaxPositionEmbeddings}.", "rope_scaling.original_max_position_embeddings");
    }
}
