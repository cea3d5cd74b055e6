namespace FineTune.MLNet.Import.Llama2c;

/// <summary>
/// <c>run.c</c> weight names and their Hugging Face <c>LlamaForCausalLM</c> keys (as transformers'
/// <c>convert_llama_weights_to_hf.py</c> and llama2.c's <c>export.py</c> pair them): rms_att = input_layernorm,
/// w1 = gate_proj, w2 = down_proj, w3 = up_proj, rms_final = model.norm, wcls = lm_head.
/// </summary>
public static class Llama2cWeightNames
{
    /// <summary>Per-layer weights: run.c name → key after <c>model.layers.N.</c>.</summary>
    public static readonly IReadOnlyList<(string Llama2c, string Hf)> PerLayer =
    [
        ("rms_att", "input_layernorm.weight"),
        ("wq", "self_attn.q_proj.weight"),
        ("wk", "self_attn.k_proj.weight"),
        ("wv", "self_attn.v_proj.weight"),
        ("wo", "self_attn.o_proj.weight"),
        ("rms_ffn", "post_attention_layernorm.weight"),
        ("w1", "mlp.gate_proj.weight"),
        ("w2", "mlp.down_proj.weight"),
        ("w3", "mlp.up_proj.weight"),
    ];

    /// <summary>Whole-model weights: run.c name → HF key.</summary>
    public static readonly IReadOnlyList<(string Llama2c, string Hf)> Global =
    [
        ("token_embedding", "model.embed_tokens.weight"),
        ("rms_final", "model.norm.weight"),
        ("wcls", "lm_head.weight"),
    ];
}
