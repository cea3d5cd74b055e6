using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Llama;
using static TorchSharp.torch;

/// <summary>
/// The same architecture and tokenizer as a pretrained folder, with fresh random weights: HF Llama's initialisation
/// (every matrix N(0, 0.02), RMSNorm weights 1, biases 0), seeded. The "no pretraining" arm of the transfer-learning comparison.
/// </summary>
public static class RandomInitModel
{
    public static string Create(string pretrainedFolder, string directory, int seed = 7)
    {
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.GetFiles(pretrainedFolder).Where(f => Path.GetFileName(f) is var n && n.StartsWith("tokenizer", StringComparison.Ordinal) || n is "special_tokens_map.json" or "generation_config.json"))
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)), overwrite: true);
        random.manual_seed(seed);
        using var model = new LlamaForCausalLM(LlamaConfig.FromJsonFile(Path.Combine(pretrainedFolder, "config.json")));
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters())
            {
                if (p.shape.Length == 2) p.normal_(0, 0.02);
                else if (name.EndsWith("norm.weight", StringComparison.Ordinal)) p.fill_(1.0);
                else p.zero_();   // biases (qwen2)
            }
        }
        LlamaCheckpointWriter.SaveMerged(model, directory);
        return directory;
    }
}
