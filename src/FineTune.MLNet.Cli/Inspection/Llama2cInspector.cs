using FineTune.MLNet.Formats.Llama2c;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>A llama2.c checkpoint's header (checked against the file size) and the parameter count of its layout.</summary>
internal static class Llama2cInspector
{
    public static InspectionReport Inspect(string path)
    {
        var h = Llama2cCheckpoint.ReadHeader(path);
        return new InspectionReport("llama2.c checkpoint", path)
            .Add("version", (long)h.Version)
            .Add("encoding", h.Version == 2 ? $"Q8_0 (group {h.GroupSize})" : "fp32")
            .Add("layers", (long)h.Layers)
            .Add("hidden_size", (long)h.Dim)
            .Add("intermediate_size", (long)h.HiddenDim)
            .Add("attention_heads", (long)h.Heads)
            .Add("kv_heads", (long)h.KvHeads)
            .Add("vocab_size", (long)h.VocabSize)
            .Add("context_length", (long)h.SeqLen)
            .Add("tie_word_embeddings", h.SharedClassifier)
            .Add("parameters", Llama2cLayout.Weights(h).Sum(s => s.Count))
            .Add("file_bytes", new FileInfo(path).Length);
    }
}
