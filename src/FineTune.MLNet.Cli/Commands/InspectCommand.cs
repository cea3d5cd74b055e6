using System.CommandLine;
using FineTune.MLNet.Cli.Inspection;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune inspect PATH [--json]</c>: what a model folder, PEFT adapter, ONNX / GGUF / llama2.c / safetensors file
/// or run folder holds, read from headers and configs only (no weights are loaded).
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = "Model folder, adapter folder, run folder, or an .onnx, .gguf, llama2.c .bin or .safetensors file." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var command = new Command("inspect", "Show what a model folder, adapter, ONNX/GGUF/llama2.c file or run folder holds (architecture, parameters, dtypes, LoRA settings, tokenizer, metrics).")
        {
            path, json,
        };
        command.SetAction(r => Run(r.GetValue(path)!, r.GetValue(json)));
        return command;
    }

    private static int Run(string path, bool json)
    {
        try
        {
            var report = InspectTarget.Inspect(path);
            Console.Write(json ? report.ToJson() + "\n" : report.ToTable());
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e) || e is IOException or UnauthorizedAccessException)
        {
            return CliErrors.Report(e);
        }
    }
}
