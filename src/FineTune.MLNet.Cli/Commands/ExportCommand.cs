using System.CommandLine;
using FineTune.MLNet.Classification;
using FineTune.MLNet.Export.GenAi;
using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Serving;
using FineTune.MLNet.Transformers;
using Microsoft.ML;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune export --format onnx|mlnet|genai|gguf --model DIR|NAME [--adapter DIR] --output PATH</c>: one command for every
/// serving target. <c>onnx</c> and <c>gguf</c> run what <c>export-onnx</c> and <c>export-gguf</c> (kept as aliases) run;
/// <c>mlnet</c> writes a classifier's ML.NET serving pipeline (<see cref="ClassifierServingPipeline"/>) as one .zip;
/// <c>genai</c> an ONNX Runtime GenAI folder (<see cref="GenAiFolderExporter"/>) for a decoder.
/// </summary>
internal static class ExportCommand
{
    /// <summary>The accepted <c>--format</c> values.</summary>
    public static readonly string[] Formats = ["onnx", "mlnet", "genai", "gguf"];

    public static Command Create()
    {
        var format = new Option<string>("--format") { Description = $"Target: {string.Join(", ", Formats)}.", Required = true };
        var gguf = new ExportGgufCommand.Arguments();
        gguf.Model.Description = "A saved classifier folder (onnx, mlnet), a Hugging Face llama/mistral/qwen2 folder or tinystories-260k (onnx, gguf).";
        gguf.Output.Description = "The file to write (.onnx, .zip or .gguf; a folder for genai).";
        var fp16 = new Option<bool>("--fp16-weights") { Description = "onnx: store weights as float16 (computation stays float32)." };
        var kvCache = new Option<bool>("--kv-cache") { Description = "onnx, decoders: past_key_values inputs and present outputs." };
        var int8 = new Option<bool>("--int8") { Description = "onnx, mlnet (classifiers): int8 dynamic quantization (MatMul weights and embeddings int8, activations at run time)." };
        var gpu = new Option<int?>("--gpu-device") { Description = "mlnet: CUDA device id ApplyOnnxModel scores on (falls back to CPU); CPU when absent." };
        var command = new Command("export", "Export a fine-tuned model for serving: ONNX, an ML.NET .zip, an ONNX Runtime GenAI folder, or GGUF.") { format };
        foreach (var option in gguf.All) command.Options.Add(option);
        command.Options.Add(fp16);
        command.Options.Add(kvCache);
        command.Options.Add(int8);
        command.Options.Add(gpu);
        command.SetAction(r =>
        {
            var model = r.GetValue(gguf.Model)!;
            var adapter = r.GetValue(gguf.Adapter);
            var output = r.GetValue(gguf.Output)!;
            return r.GetValue(format) switch
            {
                "onnx" => ExportOnnxCommand.Run(model, adapter, output, r.GetValue(fp16), r.GetValue(kvCache), r.GetValue(int8)),
                "gguf" => ExportGgufCommand.Run(model, adapter, output, r.GetValue(gguf.Type)!),
                "genai" => RunGenAi(model, adapter, output, r.GetValue(fp16)),
                "mlnet" => RunMlnet(model, adapter, output, r.GetValue(gpu), r.GetValue(int8)),
                var other => CliErrors.Report(new ArgumentException($"--format: '{other}' is not a format (expected {string.Join(", ", Formats)}).")),
            };
        });
        return command;
    }

    private static int RunGenAi(DirectoryInfo model, DirectoryInfo? adapter, FileInfo output, bool fp16)
    {
        try
        {
            var folder = CausalLmArguments.Folder(model);
            if (!File.Exists(Path.Combine(folder, "config.json")))
                throw new DirectoryNotFoundException($"--model: '{folder}' is not a model folder (no config.json).");
            using var llm = CausalLmArguments.Load(model, adapter, "cpu");
            GenAiFolderExporter.Export(llm, folder, output.FullName, fp16 ? OnnxWeightPrecision.Float16 : OnnxWeightPrecision.Float32);
            Console.WriteLine($"wrote {output.FullName} (ONNX Runtime GenAI folder: model.onnx with KV cache, genai_config.json, tokenizer files)");
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }

    private static int RunMlnet(DirectoryInfo model, DirectoryInfo? adapter, FileInfo output, int? gpuDevice, bool int8)
    {
        try
        {
            if (adapter is not null) throw new ArgumentException("--adapter: classifier folders are saved with their LoRA merged; no adapter is needed.");
            using var transformer = TextClassificationTransformer.Load(model.FullName);   // its saved columns say whether it reads sentence pairs
            var classifier = transformer.Classifier;
            var pipeline = transformer.ToServingPipeline(new MLContext(), new ServingPipelineOptions { GpuDeviceId = gpuDevice, Int8 = int8 });
            if (output.Directory is { } dir) dir.Create();
            pipeline.Save(output.FullName);
            Console.WriteLine($"wrote {output.FullName} ({new FileInfo(output.FullName).Length / 1e6:F1} MB; ML.NET pipeline with the {(int8 ? "int8" : "float32")} ONNX model, {classifier.Labels.Count} labels)");
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }
}
