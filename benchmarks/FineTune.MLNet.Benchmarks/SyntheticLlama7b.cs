using System.Text.Json.Nodes;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// A synthetic checkpoint with Llama-2-7B's exact <c>config.json</c> (hidden 4096, 32 layers, 32 heads, intermediate
/// 11008, vocab 32000, bf16), as transformers shards it (about 2 GB per shard plus <c>model.safetensors.index.json</c>),
/// deterministic pseudo-random weights of a realistic scale (linear and embedding weights N(0, 0.02), norms 1).
/// Written once to <c>$FINETUNE_BENCH_CACHE</c> (default <c>/tmp/finetune-bench</c>) and reused; about 13.5 GB.
/// </summary>
internal static class SyntheticLlama7b
{
    public const string ConfigJson = """
        {"architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096,
         "initializer_range": 0.02, "intermediate_size": 11008, "max_position_embeddings": 4096, "model_type": "llama",
         "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": null, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.31.0.dev0",
         "use_cache": true, "vocab_size": 32000}
        """;

    private const int LayersPerShard = 5;

    /// <summary>Decoder layers: 32 (Llama-2-7B); <c>FINETUNE_BENCH_7B_LAYERS</c> writes a shallower variant for a smoke run.</summary>
    public static int Layers => int.TryParse(Environment.GetEnvironmentVariable("FINETUNE_BENCH_7B_LAYERS"), out var n) && n is >= 1 and <= 32 ? n : 32;

    public static string Folder()
    {
        var root = Environment.GetEnvironmentVariable("FINETUNE_BENCH_CACHE") is { Length: > 0 } r ? r : "/tmp/finetune-bench";
        return Path.Combine(root, Layers == 32 ? "llama-2-7b-synthetic" : $"llama-2-7b-synthetic-{Layers}-layers");
    }

    /// <summary>The folder, written first if it is not complete yet.</summary>
    public static string Ensure()
    {
        var dir = Folder();
        var done = Path.Combine(dir, ".complete");
        if (File.Exists(done)) return dir;
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), ConfigJson.Replace("\"num_hidden_layers\": 32", $"\"num_hidden_layers\": {Layers}"));
        var config = LlamaConfig.FromJsonFile(Path.Combine(dir, "config.json"));
        var layers = config.NumHiddenLayers;
        var shardCount = (layers + LayersPerShard - 1) / LayersPerShard + 1;
        var weightMap = new JsonObject();
        long total = 0;
        for (var shard = 0; shard < shardCount; shard++)
        {
            using var scope = NewDisposeScope();
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            if (shard == 0) tensors["model.embed_tokens.weight"] = Normal(config.VocabSize, config.HiddenSize, seed: 1);
            if (shard == shardCount - 1)
            {
                tensors["model.norm.weight"] = ones(config.HiddenSize, dtype: ScalarType.BFloat16);
                tensors["lm_head.weight"] = Normal(config.VocabSize, config.HiddenSize, seed: 2);
            }
            else
            {
                for (var l = shard * LayersPerShard; l < Math.Min(layers, (shard + 1) * LayersPerShard); l++) AddLayer(tensors, config, l);
            }
            var name = $"model-{shard + 1:D5}-of-{shardCount:D5}.safetensors";
            SafeTensorsFile.Save(Path.Combine(dir, name), tensors);
            foreach (var (key, t) in tensors)
            {
                weightMap[key] = name;
                total += t.numel() * t.element_size();
            }
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
        AtomicFile.WriteAllText(Path.Combine(dir, HfCheckpoint.IndexFileName), index.ToJsonString());
        File.WriteAllText(done, "");
        return dir;
    }

    private static void AddLayer(Dictionary<string, Tensor> tensors, LlamaConfig c, int l)
    {
        var p = $"model.layers.{l}.";
        long h = c.HiddenSize, i = c.IntermediateSize;
        var seed = 100 + 16L * l;
        tensors[p + "input_layernorm.weight"] = ones(h, dtype: ScalarType.BFloat16);
        tensors[p + "post_attention_layernorm.weight"] = ones(h, dtype: ScalarType.BFloat16);
        tensors[p + "self_attn.q_proj.weight"] = Normal(h, h, seed);
        tensors[p + "self_attn.k_proj.weight"] = Normal(h, h, seed + 1);
        tensors[p + "self_attn.v_proj.weight"] = Normal(h, h, seed + 2);
        tensors[p + "self_attn.o_proj.weight"] = Normal(h, h, seed + 3);
        tensors[p + "mlp.gate_proj.weight"] = Normal(i, h, seed + 4);
        tensors[p + "mlp.up_proj.weight"] = Normal(i, h, seed + 5);
        tensors[p + "mlp.down_proj.weight"] = Normal(h, i, seed + 6);
    }

    private static Tensor Normal(long rows, long cols, long seed)
    {
        using var scope = NewDisposeScope();
        var g = new TorchSharp.torch.Generator((ulong)seed);
        return randn(rows, cols, generator: g).mul_(0.02).to(ScalarType.BFloat16).MoveToOuterDisposeScope();   // (rows, cols)
    }
}
