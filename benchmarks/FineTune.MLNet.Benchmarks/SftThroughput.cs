using System.Diagnostics;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// LoRA / QLoRA SFT steps on a small llama (4 layers, hidden 256, GQA 8/4 heads, intermediate 688, vocab 8192) at
/// batch B × T: completion loss over all tokens, backward, clip, AdamW over the adapters (r 16, all linear layers).
/// The base is loaded through the checkpoint loader, so QLoRA quantizes it to NF4 exactly as a user's run does.
/// </summary>
internal static class SftThroughput
{
    private const int Layers = 4, Hidden = 256, Heads = 8, KvHeads = 4, Intermediate = 688, Vocab = 8192;

    public static ScenarioResult Run(BenchmarkSettings settings, bool qlora)
    {
        var dir = CreateCheckpoint();
        var lora = new LoraSettings { Rank = 16, Alpha = 32, Dropout = 0.05, TargetModules = ["all-linear"], QuantizeBase = qlora };
        using var model = LlamaForCausalLM.FromPretrained(dir, lora);
        model.train();
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        using var optimizer = new AdamW(trainable.Select(p => (p.name, p.parameter)), 0.0, _ => false);
        long b = Math.Max(1, settings.BatchSize / 2), t = 2 * settings.SequenceLength;
        random.manual_seed(0);
        using var ids = randint(3, Vocab, [b, t], dtype: ScalarType.Int64);   // (B, T)

        double Step()
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var logits = model.Forward(ids);                                   // (B, T, V)
            CausalLmLoss.MeanNll(logits, ids).backward();
            nn.utils.clip_grad_norm_(optimizer.Parameters, 1.0);
            optimizer.Step(1e-4);
            optimizer.ZeroGrad();
            return clock.Elapsed.TotalSeconds;
        }

        for (var i = 0; i < settings.WarmupSteps; i++) Step();
        var seconds = Enumerable.Range(0, settings.TimedSteps).Select(_ => Step()).Average();
        var linears = model.named_modules().Select(m => m.module).OfType<LoraLinear>().ToList();
        var baseBytes = linears.Sum(l => (double)l.BaseWeightBytes);
        var baseParams = linears.Sum(l => (double)l.InFeatures * l.OutFeatures);
        var n = baseParams + (double)Hidden * Vocab;                            // block linears + lm_head
        var perToken6N = 6 * n + 12.0 * Layers * Hidden * t;
        var perTokenNeeded = 4 * n + 12.0 * Layers * Hidden * t;
        Directory.Delete(dir, recursive: true);
        return new ScenarioResult(qlora ? "sft-qlora" : "sft-lora", new()
        {
            ["step_s"] = seconds,
            ["tokens_per_s"] = b * t / seconds,
            ["batch"] = b,
            ["sequence"] = t,
            ["model_gflop_per_step"] = b * t * perToken6N / 1e9,
            ["needed_gflop_per_step"] = b * t * perTokenNeeded / 1e9,
            ["base_linear_params"] = baseParams,
            ["base_bytes_per_param"] = baseBytes / baseParams,
            ["trainable_params"] = trainable.Sum(p => (double)p.parameter.numel()),
        });
    }

    private static string CreateCheckpoint()
    {
        var dir = Path.Combine(Path.GetTempPath(), "finetune-bench-llama-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), $$"""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": {{Vocab}}, "hidden_size": {{Hidden}},
             "intermediate_size": {{Intermediate}}, "num_hidden_layers": {{Layers}}, "num_attention_heads": {{Heads}},
             "num_key_value_heads": {{KvHeads}}, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 2048,
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
}
