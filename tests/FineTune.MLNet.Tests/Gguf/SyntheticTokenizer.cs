using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Import.Gguf;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary>
/// A SentencePiece-style vocabulary of any size for the tiny HF llama fixtures (which have no tokenizer): specials,
/// "▁", letters, digits, punctuation and a few scored multi-character pieces, turned into tokenizer.json files by
/// the GGUF tokenizer importer (so the SentencePiece export path is exercised on these models too).
/// </summary>
internal static class SyntheticTokenizer
{
    public static void WriteTo(string dir, int vocabSize)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>", "▁" };
        string[] multi = ["▁t", "he", "▁the", "▁a", "an", "in", "▁w", "as", "▁was", "er", "on", "▁s", "▁b", "or", "▁o", "nd", "▁and", "ce", "▁on", "up", "▁up", "on"];
        foreach (char c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-") tokens.Add(c.ToString());
        foreach (var m in multi) if (!tokens.Contains(m)) tokens.Add(m);
        for (int i = 0; tokens.Count < vocabSize; i++) tokens.Add($"▁x{i}");
        tokens = tokens.Take(vocabSize).ToList();
        var scores = tokens.Select((t, i) => t.Length > 1 && !t.StartsWith('<') ? -(float)i : 0f).ToArray();
        var types = tokens.Select((t, i) => i == 0 ? (int)GgufTokenType.Unknown : i < 3 ? (int)GgufTokenType.Control : (int)GgufTokenType.Normal).ToArray();
        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new("tokenizer.ggml.model", GgufValue.String("llama")),
            new("tokenizer.ggml.tokens", GgufValue.Strings(tokens)),
            new("tokenizer.ggml.scores", GgufValue.Floats(scores)),
            new("tokenizer.ggml.token_type", GgufValue.Int32s(types)),
            new("tokenizer.ggml.unknown_token_id", GgufValue.UInt32(0)),
            new("tokenizer.ggml.bos_token_id", GgufValue.UInt32(1)),
            new("tokenizer.ggml.eos_token_id", GgufValue.UInt32(2)),
        };
        using var stream = new MemoryStream();
        GgufWriter.Write(stream, metadata, []);
        var (json, config) = GgufTokenizerImporter.Build(GgufFile.Read(stream.ToArray(), "synthetic-tokenizer"));
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config);
    }
}
