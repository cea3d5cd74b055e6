using System.CommandLine;
using System.Text.Json;
using FineTune.MLNet.Classification;
using FineTune.MLNet.Export.Onnx;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune export-onnx</c>: writes an ONNX model that ONNX Runtime serves, from a saved text classifier folder
/// (bert / distilbert) or a llama / mistral / qwen2 checkpoint (with an optional PEFT adapter, merged into the weights).
/// </summary>
internal static class ExportOnnxCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "A saved classifier folder, a Hugging Face llama/mistral/qwen2 folder, or tinystories-260k (bundled).", Required = true };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "PEFT LoRA adapter to merge (decoders only)." };
        var output = new Option<FileInfo>("--output") { Description = "The .onnx file to write.", Required = true };
        var fp16 = new Option<bool>("--fp16-weights") { Description = "Store weights as float16 (computation stays float32)." };
        var kvCache = new Option<bool>("--kv-cache") { Description = "Decoders: past_key_values inputs and present outputs for incremental decoding." };
        var command = new Command("export-onnx", "Export a fine-tuned model to ONNX (opset 17) for ONNX Runtime.") { model, adapter, output, fp16, kvCache };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(adapter), r.GetValue(output)!, r.GetValue(fp16), r.GetValue(kvCache)));
        return command;
    }

    /// <summary>Exports; returns the exit code (2 with a message on bad input). Shared with <c>export --format onnx</c>.</summary>
    internal static int Run(DirectoryInfo model, DirectoryInfo? adapter, FileInfo output, bool fp16, bool kvCache, bool int8 = false)
    {
        try
        {
            var folder = CausalLmArguments.Folder(model);
            var configPath = Path.Combine(folder, "config.json");
            if (!File.Exists(configPath)) throw new FileNotFoundException($"--model: '{folder}' has no config.json.", configPath);
            string modelType;
            using (var doc = JsonDocument.Parse(File.ReadAllText(configPath)))
            {
                modelType = doc.RootElement.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
            }
            var precision = fp16 ? OnnxWeightPrecision.Float16 : OnnxWeightPrecision.Float32;
            switch (modelType)
            {
                case "bert" or "distilbert":
                    if (adapter is not null) throw new ArgumentException("--adapter: classifier folders are saved with their LoRA merged; no adapter is needed.");
                    if (kvCache) throw new ArgumentException("--kv-cache: only decoders (llama, mistral, qwen2) have a KV cache.");
                    if (int8 && fp16) throw new ArgumentException("--int8: quantizes float32 weights; leave out --fp16-weights.");
                    using (var classifier = FineTunedTextClassifier.Load(model.FullName))
                        classifier.ExportOnnx(output.FullName, new BertOnnxExportOptions { WeightPrecision = precision });
                    if (int8)
                    {
                        var summary = OnnxDynamicQuantizer.QuantizeFile(output.FullName, output.FullName);
                        Console.WriteLine($"int8: {summary.MatMuls} MatMul weights, {summary.Embeddings} embedding tables ({summary.QuantizedElements:N0} values)");
                    }
                    break;
                case "llama" or "mistral" or "qwen2":
                    if (int8) throw new ArgumentException("--int8: only classifier exports are quantized (decoders are not checked yet).");
                    using (var llm = CausalLmArguments.Load(model, adapter, "cpu"))
                        LlamaOnnxExporter.Export(llm, output.FullName, new LlamaOnnxExportOptions { WeightPrecision = precision, WithKvCache = kvCache });
                    break;
                default:
                    throw new ArgumentException($"--model: model_type '{modelType}' in {configPath} is not exportable (bert, distilbert, llama, mistral, qwen2).");
            }
            Console.WriteLine($"wrote {output.FullName} ({new FileInfo(output.FullName).Length / 1e6:F1} MB)");
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }
}
