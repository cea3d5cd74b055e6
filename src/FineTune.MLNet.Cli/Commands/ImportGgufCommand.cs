using System.CommandLine;
using FineTune.MLNet.Import.Gguf;

namespace FineTune.MLNet.Cli.Commands;

/// <summary><c>finetune import gguf --input FILE.gguf --output DIR</c>: a llama-architecture GGUF to a Hugging Face folder.</summary>
internal static class ImportGgufCommand
{
    /// <summary>The <c>gguf</c> subcommand (to be added under <c>import</c>).</summary>
    public static Command Create()
    {
        var input = new Option<FileInfo>("--input") { Description = "The .gguf file (llama architecture; F32, F16, BF16, Q8_0 or Q4_0 tensors).", Required = true };
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder to write config.json, model.safetensors, tokenizer.json and tokenizer_config.json to.", Required = true };
        var command = new Command("gguf", "Convert a llama.cpp GGUF model to a Hugging Face LlamaForCausalLM folder that the other commands fine-tune.") { input, output };
        command.SetAction(r => Run(r.GetValue(input)!, r.GetValue(output)!));
        return command;
    }

    private static int Run(FileInfo input, DirectoryInfo output)
    {
        try
        {
            if (!input.Exists) throw new FileNotFoundException($"--input: file '{input.FullName}' does not exist.", input.FullName);
            var result = GgufLlamaImporter.Import(input.FullName, output.FullName);
            var c = result.Config;
            Console.WriteLine($"wrote {output.FullName}: llama, {c.NumHiddenLayers} layers, hidden {c.HiddenSize}, vocab {c.VocabSize}, "
                + $"tokenizer {result.TokenizerModel}; tensors {string.Join(", ", result.TensorTypes.Select(kv => $"{kv.Value} {kv.Key}"))}");
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }
}
