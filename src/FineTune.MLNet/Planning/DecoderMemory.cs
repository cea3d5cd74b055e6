using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Quantization;

namespace FineTune.MLNet.Planning;

/// <summary>
/// The memory of training a Llama/Mistral/Qwen2 decoder (<c>finetune sft</c> / <c>dpo</c>), from its config: weights
/// (the layers' projections NF4 under QLoRA), gradients and AdamW moments of what trains, the activations autograd
/// keeps (per token and layer, <see cref="ActivationFloatsPerToken"/>; with activation checkpointing one float32
/// hidden state per layer plus one layer recomputed), the gradients of one layer's activations that its backward holds
/// while the earlier layers' are still kept, and one chunk of the fused head's logits.
/// <para>
/// QLoRA keeps what LoRA keeps: its base matmul saves nothing for the backward. Until 2026-12-03 it did not look so:
/// QLoRA's peak RSS added was 84.3-84.5 MiB against 70.8 for LoRA (tinystories-260k, batch 8 × 128, rank 4,
/// <c>PlanCliTests</c>), and one float per projection output, token and layer fitted the gap. Traced: TorchSharp keeps
/// the C# wrappers of a custom function's incoming and returned gradients alive until the backward ends, so every
/// <c>Nf4MatMul</c> node's gradients piled up; <c>Autograd/CustomFunctionGradients</c> releases them. Measured
/// after the fix on 1,280 tokens (5 rows × 256): QLoRA 79.7-82.1 MiB (92.7-93.2 before), LoRA 75.9-78.5.
/// </para>
/// </summary>
public static class DecoderMemory
{
    /// <summary>The projections of a decoder layer as LoRA targets them: name, in and out features.</summary>
    public static IReadOnlyList<(string Name, long In, long Out)> Projections(LlamaConfig c)
    {
        long h = c.HiddenSize, q = (long)c.NumAttentionHeads * c.EffectiveHeadDim, kv = (long)c.KeyValueHeads * c.EffectiveHeadDim, i = c.IntermediateSize;
        return [("q_proj", h, q), ("k_proj", h, kv), ("v_proj", h, kv), ("o_proj", q, h), ("gate_proj", h, i), ("up_proj", h, i), ("down_proj", i, h)];
    }

    /// <summary>LoRA parameters of one layer: rank × (in + out) for every targeted projection.</summary>
    public static double LoraParametersPerLayer(LlamaConfig c, int rank, IReadOnlyList<string> targets)
    {
        var settings = new LoraSettings { Rank = rank, TargetModules = targets };
        return Projections(c).Where(p => settings.Targets(p.Name)).Sum(p => (double)rank * (p.In + p.Out));
    }

    /// <summary>
    /// Float32 values autograd keeps per token and layer in our decoder (no checkpointing): norm inputs and outputs,
    /// q/k/v and their rotated copies, the grouped-query repeat, the fused attention's log-sum-exp (one per head: libtorch's
    /// <c>scaled_dot_product_attention</c>, the decoder's default, keeps no T × T scores or probabilities, so the sequence
    /// length does not enter), the attention output, the residuals and the SwiGLU's gate, up, activation and product;
    /// plus, per adapted projection, the rank-wide hidden of the adapter and, when the adapters' dropout is above 0, the
    /// dropped-out input (at 0 the adapter reads the input the base projection keeps anyway).
    /// </summary>
    public static double ActivationFloatsPerToken(LlamaConfig c, TrainingMethod m, IReadOnlyList<string> targets)
    {
        double h = c.HiddenSize, q = (double)c.NumAttentionHeads * c.EffectiveHeadDim, kv = (double)c.KeyValueHeads * c.EffectiveHeadDim, i = c.IntermediateSize;
        double floats = 8 * h + 6 * q + 4 * kv + 4 * i + c.NumAttentionHeads;
        if (m.Rank is { } r)
        {
            var settings = new LoraSettings { Rank = r, TargetModules = targets };
            floats += Projections(c).Where(p => settings.Targets(p.Name)).Sum(p => (m.LoraDropout > 0 ? p.In : 0) + r);
        }
        return floats;
    }

    /// <summary>The estimate for <paramref name="sequences"/> rows of <paramref name="sequenceLength"/> tokens per micro-batch (DPO: two per pair).</summary>
    public static MemoryEstimate Estimate(LlamaConfig c, TrainingMethod m, IReadOnlyList<string> targets, int sequences, int sequenceLength, bool gradientCheckpointing)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(targets);
        double h = c.HiddenSize, layers = c.NumHiddenLayers;
        double projectionParameters = Projections(c).Sum(p => (double)p.In * p.Out);
        double baseParameters = ModelMemory.ParameterCount(c);
        double lora = m.Rank is { } r ? layers * LoraParametersPerLayer(c, r, targets) : 0;
        double total = baseParameters + lora;
        double trainable = m.Rank is null ? baseParameters : lora;

        double weightBytes = 4 * total;
        if (m.Quantized)
        {
            double nf4PerLayer = Projections(c).Sum(p => (double)Nf4Layout.ForShape([p.Out, p.In]).StorageBytes);
            weightBytes = 4 * (total - layers * projectionParameters) + layers * nf4PerLayer;
        }

        double tokens = (double)sequences * sequenceLength;
        double perLayer = ActivationFloatsPerToken(c, m, targets);
        double activationFloats = gradientCheckpointing
            ? tokens * (layers * h + perLayer)            // each layer's input, and one layer recomputed in the backward
            : tokens * layers * perLayer;
        activationFloats += tokens * perLayer;            // the backward of a layer: the gradients of its activations
        activationFloats += tokens * 4 * h;               // embeddings output, final norm, the hidden states the head reads
        double chunk = Math.Min(tokens, CausalLmLoss.DefaultChunkTokens);
        double logitsBytes = 4 * 3 * chunk * c.VocabSize;  // logits, log-softmax, their gradient
        return new MemoryEstimate(total, trainable, weightBytes, 4 * trainable, 8 * trainable, 4 * activationFloats, logitsBytes);
    }
}
