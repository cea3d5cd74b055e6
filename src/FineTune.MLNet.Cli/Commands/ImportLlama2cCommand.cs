using System.CommandLine;
using FineTune.MLNet.Import.Llama2c;

namespace FineTune.MLNet.Cli.Commands;

/// <summary><c>finetune import llama2c --checkpoint FILE --tokenizer FILE --output DIR</c>: a llama2.c model to a Hugging Face folder.</summary>
internal static class ImportLlama2cCommand
{
    /// <summary>The <c>llama2c</c> subcommand (to be added under <c>import</c>).</summary>
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "The llama2.c checkpoint (.bin: legacy v0, v1 fp32 or v2 Q8_0).", Required = true };
        var tokenizer = new Option<FileInfo>("--tokenizer") { Description = "Its tokenizer: llama2.c tok*.bin, or a SentencePiece tokenizer.model (.model).", Required = true };
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder to write config.json, model.safetensors, tokenizer.json, tokenizer_config.json and generation_config.json to.", Required = true };
        var command = new Command("llama2c", "Convert a llama2.c model (Karpathy's run.c format) to a Hugging Face LlamaForCausalLM folder.") { checkpoint, tokenizer, output };
        command.SetAction(r => Run(r.GetValue(checkpoint)!, r.GetValue(tokenizer)!, r.GetValue(output)!));
        return command;
    }

    private static int Run(FileInfo checkpoint, FileInfo tokenizer, DirectoryInfo output)
    {
        try
        {
            if (!checkpoint.Exists) throw new FileNotFoundException($"--checkpoint: file '{checkpoint.FullName}' does not exist.", checkpoint.FullName);
            if (!tokenizer.Exists) throw new FileNotFoundException($"--tokenizer: file '{tokenizer.FullName}' does not exist.", tokenizer.FullName);
            var result = Llama2cImporter.Import(checkpoint.FullName, tokenizer.FullName, output.FullName);
            var h = result.Header;
            Console.WriteLine($"wrote {output.FullName}: llama2.c v{h.Version}, {h.Layers} layers, dim {h.Dim}, {h.Heads} heads / {h.KvHeads} kv heads, "
                + $"vocab {h.VocabSize}, seq_len {h.SeqLen}, {(h.SharedClassifier ? "tied" : "separate")} classifier, {result.Parameters:N0} parameters");
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }
}
