using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Peft;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>Decides what a path is (by its files, magic bytes and extension) and runs that inspector.</summary>
internal static class InspectTarget
{
    private const string Expected =
        "a model folder (config.json), a PEFT adapter folder (adapter_config.json), a run folder (metrics.json or metrics.jsonl), " +
        "a saved fine-tuned decoder (lora_finetune.json), " +
        "an ONNX file (.onnx), a GGUF file, a llama2.c checkpoint (.bin) or a safetensors file (.safetensors)";

    public static InspectionReport Inspect(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            if (File.Exists(Path.Combine(full, PeftAdapterConfig.FileName))) return AdapterInspector.Inspect(full);
            if (RunFolderInspector.IsRunFolder(full)) return RunFolderInspector.Inspect(full);
            if (File.Exists(Path.Combine(full, SavedDecoderInspector.ManifestFile))) return SavedDecoderInspector.Inspect(full);
            if (File.Exists(Path.Combine(full, HfModelInspector.ConfigFile))) return HfModelInspector.Inspect(full);
            throw new InvalidDataException($"{full}: a folder without config.json, adapter_config.json, metrics.json, metrics.jsonl or lora_finetune.json; expected {Expected}.");
        }
        if (!File.Exists(full)) throw new FileNotFoundException($"PATH: '{full}' does not exist.", full);
        var magic = Magic(full);
        if (magic == "GGUF") return Checked(full, "GGUF file", GgufInspector.Inspect);
        if (magic == "42ka" || full.EndsWith(".bin", StringComparison.OrdinalIgnoreCase)) return Checked(full, "llama2.c checkpoint (v0, v1 or v2)", Llama2cInspector.Inspect);
        if (full.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return Checked(full, "ONNX ModelProto", OnnxInspector.Inspect);
        if (full.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return Checked(full, "safetensors file", SafeTensorsInspector.Inspect);
        throw new InvalidDataException($"{full}: not a recognised file (first bytes '{Printable(magic)}', extension '{Path.GetExtension(full)}'); expected {Expected}.");
    }

    /// <summary>Runs a file inspector; a format error says the full path and what the file was expected to be.</summary>
    private static InspectionReport Checked(string path, string expected, Func<string, InspectionReport> inspect)
    {
        try
        {
            return inspect(path);
        }
        catch (Exception e) when (e is FormatException or IOException or InvalidDataException && e is not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: not a valid {expected}: {e.Message}", e);
        }
    }

    /// <summary>The first four bytes as Latin-1 text ("GGUF", or "42ka" for llama2.c's little-endian "ak42").</summary>
    private static string Magic(string path)
    {
        using var stream = File.OpenRead(path);
        var bytes = new byte[4];
        var n = stream.ReadAtLeast(bytes, 4, throwOnEndOfStream: false);
        return System.Text.Encoding.Latin1.GetString(bytes, 0, n);
    }

    private static string Printable(string s) => new(s.Select(c => c is >= ' ' and <= '~' ? c : '.').ToArray());
}
