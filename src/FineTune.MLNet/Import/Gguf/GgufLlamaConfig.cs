using FineTune.MLNet.Formats.HuggingFace;
using System.Globalization;
using FineTune.MLNet.Formats.Gguf;

namespace FineTune.MLNet.Import.Gguf;

/// <summary>
/// The <see cref="LlamaConfig"/> a llama-architecture GGUF describes (<c>llama.*</c> keys as written by
/// <c>convert_hf_to_gguf.py</c>). Float32 metadata (epsilon, RoPE base) is turned back into its shortest decimal
/// (9.9999997e-6 becomes 1e-5), as the HF config held before conversion.
/// </summary>
public static class GgufLlamaConfig
{
    /// <summary>The only architecture imported.</summary>
    public const string Architecture = "llama";

    /// <summary>Reads the config; throws <see cref="GgufFormatException"/> for missing or bad keys, <see cref="NotSupportedException"/> for features the model lacks.</summary>
    public static LlamaConfig Read(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var arch = file.GetString("general.architecture") ?? throw Missing(file, "general.architecture");
        if (arch != Architecture)
            throw new NotSupportedException($"GGUF file '{file.Name}': general.architecture is '{arch}'; only '{Architecture}' can be imported.");
        string P(string key) => $"{Architecture}.{key}";
        int Required(string key) => ToInt(file, P(key), file.GetInteger(P(key)) ?? throw Missing(file, P(key)));

        if (file.GetInteger(P("expert_count")) is > 0)
            throw new NotSupportedException($"GGUF file '{file.Name}': {P("expert_count")} > 0 (mixture of experts) is not supported.");
        if (file.Get(P("attention.head_count")) is { Type: GgufValueType.Array })
            throw new NotSupportedException($"GGUF file '{file.Name}': per-layer {P("attention.head_count")} arrays are not supported.");
        int hidden = Required("embedding_length");
        int heads = Required("attention.head_count");
        int kvHeads = file.Has(P("attention.head_count_kv")) ? Required("attention.head_count_kv") : heads;
        int? keyLength = file.Has(P("attention.key_length")) ? Required("attention.key_length") : null;
        int? valueLength = file.Has(P("attention.value_length")) ? Required("attention.value_length") : null;
        if (keyLength is not null && valueLength is not null && keyLength != valueLength)
            throw new NotSupportedException($"GGUF file '{file.Name}': key_length {keyLength} differs from value_length {valueLength}.");
        int headDim = keyLength ?? valueLength ?? (heads > 0 ? hidden / heads : 0);
        if (file.Has(P("rope.dimension_count")) && Required("rope.dimension_count") != headDim)
            throw new NotSupportedException($"GGUF file '{file.Name}': {P("rope.dimension_count")} {Required("rope.dimension_count")} differs from the head size {headDim} (partial RoPE is not supported).");
        if (file.FindTensor("rope_freqs.weight") is not null)
            throw new NotSupportedException($"GGUF file '{file.Name}': tensor 'rope_freqs.weight' (llama3 RoPE factors) is not supported by the importer.");

        int vocab = file.Has(P("vocab_size")) ? Required("vocab_size")
            : file.GetStringArray("tokenizer.ggml.tokens")?.Length
            ?? (int)(file.FindTensor("token_embd.weight")?.Dimensions[^1] ?? throw Missing(file, P("vocab_size")));
        var config = new LlamaConfig
        {
            ModelType = "llama",
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = Required("feed_forward_length"),
            NumHiddenLayers = Required("block_count"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim,
            RmsNormEps = Shortest(file.GetNumber(P("attention.layer_norm_rms_epsilon")) ?? throw Missing(file, P("attention.layer_norm_rms_epsilon"))),
            RopeTheta = Shortest(file.GetNumber(P("rope.freq_base")) ?? 10000),
            RopeScaling = ReadScaling(file),
            MaxPositionEmbeddings = file.Has(P("context_length")) ? Required("context_length") : 2048,
            TieWordEmbeddings = file.FindTensor("output.weight") is null,
            BosTokenId = Id(file, "tokenizer.ggml.bos_token_id"),
            EosTokenIds = Id(file, "tokenizer.ggml.eos_token_id") is int eos ? [eos] : [],
            PadTokenId = Id(file, "tokenizer.ggml.padding_token_id"),
            AttentionBias = file.FindTensor("blk.0.attn_q.bias") is not null,
            MlpBias = file.FindTensor("blk.0.ffn_gate.bias") is not null,
            TorchDtype = "float32",
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new GgufFormatException(file.Name, "llama.* metadata", $"gives an invalid config ({e.Message})");
        }
        return config;
    }

    private static RopeScaling? ReadScaling(GgufFile file)
    {
        var type = file.GetString("llama.rope.scaling.type");
        if (type is null or "none") return null;
        if (type != "linear")
            throw new NotSupportedException($"GGUF file '{file.Name}': llama.rope.scaling.type '{type}' is not supported (none, linear).");
        var factor = file.GetNumber("llama.rope.scaling.factor") ?? throw Missing(file, "llama.rope.scaling.factor");
        return new RopeScaling { RopeType = "linear", Factor = Shortest(factor) };
    }

    private static int? Id(GgufFile file, string key) => file.GetInteger(key) is long v ? ToInt(file, key, v) : null;

    private static int ToInt(GgufFile file, string key, long value) =>
        value is >= 0 and <= int.MaxValue ? (int)value : throw new GgufFormatException(file.Name, $"metadata[\"{key}\"]", $"{value} is not in 0..{int.MaxValue}.");

    /// <summary>A float32 value as the shortest decimal that rounds to it (1e-5, not 9.99999974737875e-06).</summary>
    internal static double Shortest(double value) => (double)(float)value != value ? value
        : double.Parse(((float)value).ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static GgufFormatException Missing(GgufFile file, string key) => new(file.Name, $"metadata[\"{key}\"]", "is required and missing.");
}
