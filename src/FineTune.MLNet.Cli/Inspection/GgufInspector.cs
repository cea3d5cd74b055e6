using FineTune.MLNet.Formats.Gguf;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>A GGUF file's header: architecture and shape metadata, every metadata key, tensor count and types, tokenizer.</summary>
internal static class GgufInspector
{
    public static InspectionReport Inspect(string path)
    {
        var file = GgufFile.Read(path);
        var arch = file.GetString("general.architecture");
        long? Arch(string key) => arch is null ? null : file.GetInteger($"{arch}.{key}");
        var tokens = file.GetStringArray("tokenizer.ggml.tokens");
        return new InspectionReport("GGUF file", path)
            .Add("version", (long)file.Version)
            .Add("architecture", arch)
            .Add("name", file.GetString("general.name"))
            .Add("layers", Arch("block_count"))
            .Add("hidden_size", Arch("embedding_length"))
            .Add("intermediate_size", Arch("feed_forward_length"))
            .Add("attention_heads", Arch("attention.head_count"))
            .Add("kv_heads", Arch("attention.head_count_kv"))
            .Add("context_length", Arch("context_length"))
            .Add("file_type", file.GetInteger("general.file_type"))
            .Add("tokenizer", file.GetString("tokenizer.ggml.model"))
            .Add("tokenizer_tokens", tokens is null ? null : (long)tokens.Length)
            .Add("chat_template", file.Has("tokenizer.chat_template"))
            .Add("metadata_keys", (long)file.Metadata.Count)
            .Add("metadata", file.Metadata.Select(kv => kv.Key).ToList())
            .Add("tensors", (long)file.Tensors.Count)
            .Add("parameters", file.Tensors.Sum(t => t.ElementCount))
            .Add("tensor_bytes", file.Tensors.Sum(t => t.ByteSize))
            .Add("tensor_types", file.Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Count()).Select(g => new InspectionReport.Section()
                .Add("name", g.Key.ToString())
                .Add("tensors", (long)g.Count())
                .Add("parameters", g.Sum(t => t.ElementCount))).ToList())
            .Add("alignment", (long)file.Alignment);
    }
}
