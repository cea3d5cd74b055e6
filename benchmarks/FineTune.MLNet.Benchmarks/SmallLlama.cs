using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// The SFT scenarios' model (4 layers, hidden 256, GQA 8/4 heads, intermediate 688, vocab 8192, untied head), written
/// as a checkpoint with seeded N(0, 0.02) weights, and its LoRA SFT step: chunked head + cross-entropy over all tokens
/// (as <c>SftTask</c>), backward, clip 1.0, AdamW over the adapters.
/// </summary>
internal static class SmallLlama
{
    public const int Layers = 4, Hidden = 256, Heads = 8, KvHeads = 4, Intermediate = 688, Vocab = 8192;

    /// <summary>LoRA as the SFT scenarios run it: r 16, alpha 32, dropout 0.05 on all block linears.</summary>
    public static LoraSettings Lora(bool qlora) => new() { Rank = 16, Alpha = 32, Dropout = 0.05, TargetModules = ["all-linear"], QuantizeBase = qlora };

    /// <summary>Writes the checkpoint into a fresh temporary folder (the caller deletes it).</summary>
    public static string CreateCheckpoint(int maxPositions = 2048)
    {
        var dir = Path.Combine(Path.GetTempPath(), "finetune-bench-llama-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), $$"""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": {{Vocab}}, "hidden_size": {{Hidden}},
             "intermediate_size": {{Intermediate}}, "num_hidden_layers": {{Layers}}, "num_attention_heads": {{Heads}},
             "num_key_value_heads": {{KvHeads}}, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": {{maxPositions}},
             "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
            """);
        random.manual_seed(1);
        using var model = new LlamaForCausalLM(LlamaConfig.FromJsonFile(Path.Combine(dir, "config.json")));
        using (no_grad())
        {
            foreach (var (_, p) in model.named_parameters()) if (p.shape.Length == 2) p.normal_(0, 0.02);
        }
        LlamaCheckpointWriter.SaveMerged(model, dir);
        return dir;
    }

    /// <summary>The adapters' optimizer (no weight decay).</summary>
    public static AdamW Optimizer(LlamaForCausalLM model) =>
        new(model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)), 0.0, _ => false);

    /// <summary>
    /// One LoRA SFT step on <paramref name="ids"/> (B, T) as its own labels; <paramref name="chunked"/> false scores the
    /// full (B, T, V) logits instead (the path before issue 11). Returns the mean loss (host value).
    /// </summary>
    public static float Step(LlamaForCausalLM model, AdamW optimizer, Tensor ids, bool chunked = true)
    {
        using var scope = NewDisposeScope();
        Tensor loss;
        if (chunked)
        {
            var (sum, count) = CausalLmLoss.SumNllChunked(model.HiddenStates(ids), model.HeadWeight, ids);   // (): logits chunk by chunk
            loss = sum.div(count.clamp_min(1).to(sum.dtype));
        }
        else
        {
            loss = CausalLmLoss.MeanNll(model.Forward(ids), ids);                                             // (B, T, V) logits held
        }
        loss.backward();
        nn.utils.clip_grad_norm_(optimizer.Parameters, 1.0);
        optimizer.Step(1e-4);
        optimizer.ZeroGrad();
        return loss.item<float>();
    }

    /// <summary>FLOPs per token: N = block linears + lm_head; 6N (+ attention) by convention, ≈ 4N (+ attention) needed by LoRA.</summary>
    public static (double SixN, double Needed, double BaseParams) FlopsPerToken(LlamaForCausalLM model, long sequence)
    {
        var linears = model.named_modules().Select(m => m.module).OfType<LoraLinear>().ToList();
        var baseParams = linears.Sum(l => (double)l.InFeatures * l.OutFeatures);
        var n = baseParams + (double)Hidden * Vocab;
        var attention = 12.0 * Layers * Hidden * sequence;
        return (6 * n + attention, 4 * n + attention, baseParams);
    }
}
