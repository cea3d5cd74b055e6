using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Llama;
using static TorchSharp.torch;

/// <summary>
/// The demo's stand-in base model when no pretrained checkpoint is given: a small random llama (4 layers, hidden 128)
/// with a bundled byte-level BPE tokenizer, written as a Hugging Face folder. It knows nothing, so its numbers only show
/// the mechanics; pass --model with a real checkpoint (TinyLlama, SmolLM, Qwen2.5-0.5B-Instruct, ...) for real ones.
/// </summary>
internal static class DemoModel
{
    public static string Create(string directory)
    {
        Directory.CreateDirectory(directory);
        var tokenizerDir = Path.Combine(AppContext.BaseDirectory, "demo-tokenizer");
        foreach (var file in Directory.GetFiles(tokenizerDir)) File.Copy(file, Path.Combine(directory, Path.GetFileName(file)), overwrite: true);
        File.WriteAllText(Path.Combine(directory, "config.json"), """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 320, "hidden_size": 128,
             "intermediate_size": 344, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
             "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "max_position_embeddings": 512, "tie_word_embeddings": false,
             "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
            """);
        random.manual_seed(7);
        using var model = new LlamaForCausalLM(LlamaConfig.FromJsonFile(Path.Combine(directory, "config.json")));
        using (no_grad())
        {
            // Under LoRA the final norm and lm_head stay frozen, so the head needs a pretrained-like scale.
            foreach (var (name, p) in model.named_parameters())
                if (p.shape.Length == 2) p.normal_(0, name == "lm_head.weight" ? 0.5 : 0.05);
        }
        LlamaCheckpointWriter.SaveMerged(model, directory);
        return directory;
    }
}
