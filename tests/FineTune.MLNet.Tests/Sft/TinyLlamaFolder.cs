using FineTune.MLNet.Tests.TestSupport;
using System.Text.Json.Nodes;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Llama;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Sft;

/// <summary>
/// A small random llama checkpoint folder (hidden 64, 2 layers, GQA 4/2) with the byte-level BPE tokenizer of the
/// generation fixture, written in HF format for SFT tests.
/// </summary>
internal static class TinyLlamaFolder
{
    public static string Create(int seed = 1)
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama", "gen");
        var dir = TestTempRoot.NewFolder("tiny-llama");
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            File.Copy(Path.Combine(source, f), Path.Combine(dir, f));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "config.json")))!.AsObject();
        config["hidden_size"] = 64;
        config["intermediate_size"] = 128;
        config["num_hidden_layers"] = 2;
        config["num_attention_heads"] = 4;
        config["num_key_value_heads"] = 2;
        config["head_dim"] = 16;
        var configPath = Path.Combine(dir, "config.json");
        File.WriteAllText(configPath, config.ToJsonString());
        random.manual_seed(seed);
        using var model = new LlamaForCausalLM(LlamaConfig.FromJsonFile(configPath));
        using (no_grad())
        {
            // The final RMSNorm is frozen under LoRA, so the head's scale bounds the reachable logits: give it room
            // (a pretrained head has it; a 0.05-std random one caps the top probability near 7%).
            foreach (var (name, p) in model.named_parameters())
            {
                if (p.shape.Length == 2) p.normal_(0, name == "lm_head.weight" ? 0.5 : 0.05);
            }
        }
        LlamaCheckpointWriter.SaveMerged(model, dir);
        return dir;
    }
}
