using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Models.Llama;

namespace FineTune.MLNet.Export.Gguf;

/// <summary>The <c>general.*</c> and <c>llama.*</c> keys of an exported model, as <c>convert_hf_to_gguf.py</c> writes them.</summary>
public static class LlamaGgufMetadata
{
    /// <summary>Metadata entries for <paramref name="config"/>.</summary>
    public static List<KeyValuePair<string, GgufValue>> Build(LlamaConfig config, string name, GgufExportType type)
    {
        ArgumentNullException.ThrowIfNull(config);
        var meta = new List<KeyValuePair<string, GgufValue>>();
        void Add(string key, GgufValue value) => meta.Add(new(key, value));
        Add("general.architecture", GgufValue.String("llama"));
        Add("general.type", GgufValue.String("model"));
        Add("general.name", GgufValue.String(name));
        Add("llama.block_count", GgufValue.UInt32((uint)config.NumHiddenLayers));
        Add("llama.context_length", GgufValue.UInt32((uint)config.MaxPositionEmbeddings));
        Add("llama.embedding_length", GgufValue.UInt32((uint)config.HiddenSize));
        Add("llama.feed_forward_length", GgufValue.UInt32((uint)config.IntermediateSize));
        Add("llama.attention.head_count", GgufValue.UInt32((uint)config.NumAttentionHeads));
        Add("llama.attention.head_count_kv", GgufValue.UInt32((uint)config.KeyValueHeads));
        Add("llama.rope.freq_base", GgufValue.Float32((float)config.RopeTheta));
        Add("llama.attention.layer_norm_rms_epsilon", GgufValue.Float32((float)config.RmsNormEps));
        Add("llama.attention.key_length", GgufValue.UInt32((uint)config.EffectiveHeadDim));
        Add("llama.attention.value_length", GgufValue.UInt32((uint)config.EffectiveHeadDim));
        Add("general.file_type", GgufValue.UInt32(type.FileType()));
        Add("llama.vocab_size", GgufValue.UInt32((uint)config.VocabSize));
        Add("llama.rope.dimension_count", GgufValue.UInt32((uint)config.EffectiveHeadDim));
        if (config.RopeScaling is { RopeType: "linear" } linear)
        {
            Add("llama.rope.scaling.type", GgufValue.String("linear"));
            Add("llama.rope.scaling.factor", GgufValue.Float32((float)linear.Factor));
        }
        if (type is GgufExportType.Q8_0 or GgufExportType.Q4_0) Add("general.quantization_version", GgufValue.UInt32(2));
        return meta;
    }

    /// <summary>
    /// llama3 RoPE as llama.cpp takes it: a <c>rope_freqs.weight</c> tensor of d/2 factors that divide the base
    /// frequencies (<c>convert_hf_to_gguf.py</c> <c>LlamaModel.generate_extra_tensors</c>); null for other RoPE types.
    /// </summary>
    public static float[]? Llama3RopeFactors(LlamaConfig config)
    {
        if (config.RopeScaling is not { RopeType: "llama3" } s) return null;
        int dim = config.EffectiveHeadDim;
        double lowWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
        double highWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        var factors = new float[dim / 2];
        for (int i = 0; i < dim / 2; i++)
        {
            double freq = 1.0 / Math.Pow(config.RopeTheta, (float)(2 * i) / dim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) factors[i] = 1;
            else if (wavelen > lowWavelen) factors[i] = (float)s.Factor;
            else
            {
                double smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                factors[i] = (float)(1 / ((1 - smooth) / s.Factor + smooth));
            }
        }
        return factors;
    }
}
