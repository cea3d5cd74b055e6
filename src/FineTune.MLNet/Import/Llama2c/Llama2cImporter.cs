using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Llama2c;
using FineTune.MLNet.Import.Gguf;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Import.Llama2c;

/// <summary>
/// Converts a llama2.c checkpoint (v0, v1 or v2, see <see cref="Llama2cCheckpoint"/>) and its tokenizer (<c>tok*.bin</c>
/// or a SentencePiece <c>tokenizer.model</c>) to a Hugging Face <c>LlamaForCausalLM</c> folder: <c>config.json</c>,
/// <c>model.safetensors</c> (fp32), <c>tokenizer.json</c>, <c>tokenizer_config.json</c>, <c>generation_config.json</c>.
/// llama2.c rotates adjacent pairs, HF rotates halves, so the rows of wq and wk are permuted
/// (<see cref="LlamaRopePermutation.ToHf"/>, as transformers' conversion does). RMSNorm eps 1e-5, RoPE θ 10000 and
/// <c>max_position_embeddings</c> = seq_len are run.c's; a shared classifier becomes <c>tie_word_embeddings</c>.
/// </summary>
public static class Llama2cImporter
{
    /// <summary>Imports into <paramref name="outputDir"/> (created; each file written atomically). Inputs are fully checked first.</summary>
    public static Llama2cImportResult Import(string checkpointPath, string tokenizerPath, string outputDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        ArgumentException.ThrowIfNullOrEmpty(tokenizerPath);
        ArgumentException.ThrowIfNullOrEmpty(outputDir);
        var header = Llama2cCheckpoint.ReadHeader(checkpointPath);
        var vocabulary = ReadTokenizer(tokenizerPath, header.VocabSize);
        var (tokenizerJson, tokenizerConfigJson) = Llama2cTokenizerJson.Build(vocabulary, header.SeqLen);
        var checkpoint = Llama2cCheckpoint.Read(checkpointPath);
        var config = ConfigOf(header, vocabulary);

        Directory.CreateDirectory(outputDir);
        long parameters;
        using (var scope = torch.NewDisposeScope())
        {
            var tensors = ToHf(checkpoint);
            parameters = tensors.Values.Sum(t => t.numel());
            HfCheckpoint.SaveFolder(outputDir, tensors);
        }
        AtomicFile.WriteAllText(Path.Combine(outputDir, "config.json"), config.ToJson());
        AtomicFile.WriteAllText(Path.Combine(outputDir, "tokenizer.json"), tokenizerJson);
        AtomicFile.WriteAllText(Path.Combine(outputDir, "tokenizer_config.json"), tokenizerConfigJson);
        AtomicFile.WriteAllText(Path.Combine(outputDir, "generation_config.json"),
            $"{{\n  \"bos_token_id\": {vocabulary.BosId},\n  \"eos_token_id\": {vocabulary.EosId},\n  \"max_length\": {header.SeqLen}\n}}\n");
        return new Llama2cImportResult(header, config, parameters);
    }

    /// <summary>A <c>tokenizer.model</c> (by extension) or a <c>tok*.bin</c>, whose size must be <paramref name="vocabSize"/>.</summary>
    public static SentencePieceVocabulary ReadTokenizer(string path, int vocabSize)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file '{path}' does not exist.", path);
        if (!path.EndsWith(".model", StringComparison.OrdinalIgnoreCase)) return Llama2cTokenizerReader.Read(path, vocabSize);
        var vocabulary = SentencePieceModelReader.Read(path);
        if (vocabulary.Count != vocabSize)
            throw new InvalidDataException($"Tokenizer '{path}': {vocabulary.Count} pieces, but the checkpoint's vocab_size is {vocabSize}.");
        return vocabulary;
    }

    /// <summary>The HF config of a llama2.c model.</summary>
    public static LlamaConfig ConfigOf(Llama2cHeader h, SentencePieceVocabulary v) => new()
    {
        ModelType = "llama",
        VocabSize = h.VocabSize,
        HiddenSize = h.Dim,
        IntermediateSize = h.HiddenDim,
        NumHiddenLayers = h.Layers,
        NumAttentionHeads = h.Heads,
        NumKeyValueHeads = h.KvHeads,
        RmsNormEps = 1e-5,
        RopeTheta = 10000,
        MaxPositionEmbeddings = h.SeqLen,
        TieWordEmbeddings = h.SharedClassifier,
        BosTokenId = v.BosId,
        EosTokenIds = [v.EosId],
        TorchDtype = "float32",
    };

    /// <summary>HF key → tensor (q/k rows permuted to rotate-half); call inside a dispose scope.</summary>
    internal static Dictionary<string, Tensor> ToHf(Llama2cCheckpoint checkpoint)
    {
        var h = checkpoint.Header;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, hf) in Llama2cWeightNames.Global)
            if (checkpoint.Tensors.TryGetValue(name, out var t)) result[hf] = torch.tensor(t.Values, t.Shape, ScalarType.Float32);
        foreach (var (name, hf) in Llama2cWeightNames.PerLayer)
        {
            var t = checkpoint.Tensors[name];
            var shape = t.Shape[1..];                                     // one layer: [rows, cols] or [dim]
            long size = shape.Aggregate(1L, (a, b) => a * b);
            for (int layer = 0; layer < h.Layers; layer++)
            {
                var values = t.Values.AsSpan((int)(layer * size), (int)size).ToArray();
                if (name == "wq") values = LlamaRopePermutation.ToHf(values, h.Heads, h.Dim);
                else if (name == "wk") values = LlamaRopePermutation.ToHf(values, h.KvHeads, h.Dim);
                result[$"model.layers.{layer}.{hf}"] = torch.tensor(values, shape, ScalarType.Float32);
            }
        }
        return result;
    }
}
