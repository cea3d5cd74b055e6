using System.CommandLine;
using FineTune.MLNet.Export.Gguf;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune export-gguf --type f32|f16|q8_0|q4_0 --model DIR [--adapter DIR] --output FILE.gguf</c>: a llama or
/// mistral checkpoint (adapter merged) as a llama.cpp GGUF file. <see cref="Arguments"/> and <see cref="Run"/> are
/// separate so an <c>export --format gguf</c> command can reuse them as they are.
/// </summary>
internal static class ExportGgufCommand
{
    /// <summary>The options of a GGUF export.</summary>
    internal sealed class Arguments
    {
        public Option<DirectoryInfo> Model { get; } = new("--model") { Description = "Hugging Face llama / mistral folder with tokenizer.json.", Required = true };
        public Option<DirectoryInfo?> Adapter { get; } = new("--adapter") { Description = "PEFT LoRA adapter to merge into the weights." };
        public Option<FileInfo> Output { get; } = new("--output") { Description = "The .gguf file to write.", Required = true };
        public Option<string> Type { get; } = new("--type") { Description = $"Weight type: {string.Join(", ", GgufExportTypes.Names)} (1-D tensors stay f32).", DefaultValueFactory = _ => "f16" };

        public IEnumerable<Option> All => [Model, Adapter, Output, Type];
    }

    public static Command Create()
    {
        var args = new Arguments();
        var command = new Command("export-gguf", "Export a llama/mistral model (adapter merged) to GGUF for llama.cpp, LLamaSharp, Ollama or LM Studio.");
        foreach (var option in args.All) command.Options.Add(option);
        command.SetAction(r => Run(r.GetValue(args.Model)!, r.GetValue(args.Adapter), r.GetValue(args.Output)!, r.GetValue(args.Type)!));
        return command;
    }

    /// <summary>Exports; returns the exit code (2 with a message on bad input).</summary>
    public static int Run(DirectoryInfo model, DirectoryInfo? adapter, FileInfo output, string type)
    {
        try
        {
            var exportType = GgufExportTypes.Parse(type);
            var folder = CausalLmArguments.Folder(model);
            if (!File.Exists(Path.Combine(folder, "config.json")))
                throw new DirectoryNotFoundException($"--model: '{folder}' is not a model folder (no config.json).");
            using var llm = CausalLmArguments.Load(model, adapter, "cpu");
            var result = LlamaGgufExporter.Export(llm, folder, output.FullName, new GgufExportOptions { Type = exportType });
            Console.WriteLine($"wrote {result.Path} ({result.Bytes / 1e6:F2} MB; tokenizer {result.TokenizerModel}; "
                + $"tensors {string.Join(", ", result.TensorTypes.Select(kv => $"{kv.Value} {kv.Key}"))})");
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }
}
