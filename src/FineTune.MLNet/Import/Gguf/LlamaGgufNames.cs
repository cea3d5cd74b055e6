namespace FineTune.MLNet.Import.Gguf;

/// <summary>
/// Tensor names of llama.cpp's <c>llama</c> architecture and their Hugging Face <c>LlamaForCausalLM</c> keys
/// (gguf-py <c>tensor_mapping.py</c>): <c>token_embd</c> = <c>model.embed_tokens</c>, <c>blk.N.attn_q</c> =
/// <c>model.layers.N.self_attn.q_proj</c>, <c>output</c> = <c>lm_head</c>, and so on.
/// </summary>
public static class LlamaGgufNames
{
    private static readonly (string Gguf, string Hf)[] s_global =
    [
        ("token_embd", "model.embed_tokens"),
        ("output_norm", "model.norm"),
        ("output", "lm_head"),
    ];

    private static readonly (string Gguf, string Hf)[] s_block =
    [
        ("attn_norm", "input_layernorm"),
        ("attn_q", "self_attn.q_proj"),
        ("attn_k", "self_attn.k_proj"),
        ("attn_v", "self_attn.v_proj"),
        ("attn_output", "self_attn.o_proj"),
        ("ffn_norm", "post_attention_layernorm"),
        ("ffn_gate", "mlp.gate_proj"),
        ("ffn_up", "mlp.up_proj"),
        ("ffn_down", "mlp.down_proj"),
    ];

    /// <summary>The HF key of a GGUF tensor name (<c>.weight</c>/<c>.bias</c> suffix kept), or null when it is not a llama tensor.</summary>
    public static string? ToHf(string ggufName)
    {
        var (stem, suffix) = Split(ggufName);
        if (suffix is null) return null;
        foreach (var (g, h) in s_global)
            if (stem == g) return h + suffix;
        if (!stem.StartsWith("blk.", StringComparison.Ordinal)) return null;
        int dot = stem.IndexOf('.', 4);
        if (dot < 0 || !int.TryParse(stem.AsSpan(4, dot - 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int layer)) return null;
        var part = stem[(dot + 1)..];
        foreach (var (g, h) in s_block)
            if (part == g) return $"model.layers.{layer}.{h}{suffix}";
        return null;
    }

    /// <summary>The GGUF name of an HF key, or null when it is not a llama key.</summary>
    public static string? ToGguf(string hfKey)
    {
        var (stem, suffix) = Split(hfKey);
        if (suffix is null) return null;
        foreach (var (g, h) in s_global)
            if (stem == h) return g + suffix;
        const string prefix = "model.layers.";
        if (!stem.StartsWith(prefix, StringComparison.Ordinal)) return null;
        int dot = stem.IndexOf('.', prefix.Length);
        if (dot < 0 || !int.TryParse(stem.AsSpan(prefix.Length, dot - prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int layer)) return null;
        var part = stem[(dot + 1)..];
        foreach (var (g, h) in s_block)
            if (part == h) return $"blk.{layer}.{g}{suffix}";
        return null;
    }

    /// <summary>Whether an HF key is a q or k projection (weight or bias), whose rows llama.cpp permutes.</summary>
    public static bool IsQuery(string hfKey) => hfKey.Contains(".self_attn.q_proj.", StringComparison.Ordinal);

    /// <inheritdoc cref="IsQuery"/>
    public static bool IsKey(string hfKey) => hfKey.Contains(".self_attn.k_proj.", StringComparison.Ordinal);

    private static (string Stem, string? Suffix) Split(string name)
    {
        foreach (var suffix in new[] { ".weight", ".bias" })
            if (name.EndsWith(suffix, StringComparison.Ordinal)) return (name[..^suffix.Length], suffix);
        return (name, null);
    }
}
