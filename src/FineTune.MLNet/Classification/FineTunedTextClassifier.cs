using System.Text.Json;
using TorchSharp;
using System.Text.Json.Serialization;
using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tokenization;
using static TorchSharp.torch;

namespace FineTune.MLNet.Classification;

/// <summary>
/// A fine-tuned sequence classifier with its tokenizer and label names. Saves as a Hugging Face
/// <c>BertForSequenceClassification</c> folder (<c>config.json</c> with id2label, <c>model.safetensors</c> with any LoRA
/// adapter merged in, <c>vocab.txt</c>, <c>tokenizer_config.json</c>) plus <c>finetune_mlnet.json</c> (max length),
/// so the same folder loads here and in Python transformers.
/// Thread-safe: any number of threads may score with one classifier at once; <see cref="Dispose"/> waits for the calls in
/// flight, and any later call throws an <see cref="ObjectDisposedException"/> that says what disposed it most often.
/// </summary>
public sealed class FineTunedTextClassifier : IDisposable
{
    private const string MetaFile = "finetune_mlnet.json";

    /// <summary>What an <see cref="ObjectDisposedException"/> says: ML.NET's PredictionEngine is the usual culprit.</summary>
    internal const string DisposedMessage =
        "The fine-tuned classifier (and the TextClassificationTransformer that holds it) has been disposed. " +
        "ML.NET's PredictionEngine disposes the transformer it was created from when the engine is disposed; to share one fitted " +
        "transformer between engines (one per thread, say), create each with mlContext.Model.CreatePredictionEngine<TIn, TOut>(model, " +
        "new PredictionEngineOptions { OwnsTransformer = false }) and dispose the transformer yourself when done.";

    private readonly byte[] _vocab;
    // Scoring holds the read side, Dispose the write side: disposal never frees the weights under a forward pass in flight.
    private readonly ReaderWriterLockSlim _inUse = new();
    private bool _disposed;

    internal FineTunedTextClassifier(BertForSequenceClassification model, byte[] vocab, WordPieceTokenizerOptions tokenizerOptions,
        IReadOnlyList<string> labels, int maxLength, Device device)
    {
        Model = model;
        _vocab = vocab;
        TokenizerOptions = tokenizerOptions;
        Tokenizer = WordPieceTokenizer.FromVocabStream(new MemoryStream(vocab), tokenizerOptions);
        Labels = labels;
        MaxLength = maxLength;
        Device = device;
        Model.to(device).eval();
    }

    public BertForSequenceClassification Model { get; }
    public WordPieceTokenizer Tokenizer { get; }
    public WordPieceTokenizerOptions TokenizerOptions { get; }
    /// <summary>Class names; index i is class i of the Score vector.</summary>
    public IReadOnlyList<string> Labels { get; }
    /// <summary>The <c>vocab.txt</c> bytes the tokenizer was built from.</summary>
    internal ReadOnlyMemory<byte> Vocabulary => _vocab;
    public int MaxLength { get; }
    public Device Device { get; }

    /// <summary>Class probabilities of each (text, pair) in input order.</summary>
    public float[][] PredictProbabilities(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs = null, int batchSize = 64)
    {
        var examples = texts.Select((t, i) => new LabeledText(t, pairs?[i], -1)).ToList();
        _inUse.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            return ClassifierInference.Probabilities(Model, Tokenizer, examples, batchSize, MaxLength, Device);
        }
        finally
        {
            _inUse.ExitReadLock();
        }
    }

    /// <summary>Throws the <see cref="ObjectDisposedException"/> naming the usual cause once <see cref="Dispose"/> ran.</summary>
    internal void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed)) throw new ObjectDisposedException(nameof(FineTunedTextClassifier), DisposedMessage);
    }

    /// <summary>The predicted label of one text and the probability of each label.</summary>
    public (string Label, IReadOnlyDictionary<string, float> Probabilities) Predict(string text, string? pair = null)
    {
        var p = PredictProbabilities([text], pair is null ? null : [pair])[0];
        return (Labels[ClassifierInference.ArgMax(p)], Labels.Select((l, i) => (l, p[i])).ToDictionary(x => x.l, x => x.Item2));
    }

    /// <summary>Writes the model folder (atomically per file). LoRA adapters are merged into the saved weights.</summary>
    public void Save(string directory)
    {
        ThrowIfDisposed();
        Directory.CreateDirectory(directory);
        var config = Model.Config with { NumLabels = Labels.Count, Id2Label = Labels };
        AtomicFile.WriteAllText(Path.Combine(directory, "config.json"), config.ToJson());
        using (var scope = NewDisposeScope())
        {
            var weights = LoraMerge.MergedStateDict(Model);
            if (config.ModelType == "distilbert")   // HF key names, so transformers loads the folder as DistilBertForSequenceClassification
                weights = weights.ToDictionary(kv => DistilBertKeyMap.ToDistilBert(kv.Key), kv => kv.Value);
            SafeTensorsFile.Save(Path.Combine(directory, "model.safetensors"), weights, new Dictionary<string, string> { ["format"] = "pt" });
        }
        AtomicFile.Write(Path.Combine(directory, "vocab.txt"), s => s.Write(_vocab));
        var tokenizerConfig = new Dictionary<string, object?>
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = TokenizerOptions.LowerCase,
            ["strip_accents"] = TokenizerOptions.StripAccents,
            ["model_max_length"] = MaxLength,
        };
        AtomicFile.Write(Path.Combine(directory, "tokenizer_config.json"), s => JsonSerializer.Serialize(s, tokenizerConfig, Indented));
        AtomicFile.Write(Path.Combine(directory, MetaFile), s => JsonSerializer.Serialize(s, new Meta(MaxLength, 1), Indented));
    }

    /// <summary>
    /// Writes the classifier as an ONNX model (opset 17, LoRA merged) to <paramref name="path"/> atomically: inputs
    /// <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> (batch, sequence) int64, outputs <c>logits</c> and
    /// <c>probabilities</c> (batch, num_labels) in the order of <see cref="Labels"/>. Tokenize with <see cref="Tokenizer"/>
    /// (at most <see cref="MaxLength"/> tokens). See <see cref="BertOnnxExporter"/>.
    /// </summary>
    public void ExportOnnx(string path, BertOnnxExportOptions? options = null)
    {
        ThrowIfDisposed();
        BertOnnxExporter.Export(Model, path, options);
    }

    /// <summary>Loads a folder written by <see cref="Save"/> (or any HF BERT/DistilBERT sequence-classification folder).</summary>
    public static FineTunedTextClassifier Load(string directory, string device = "cpu")
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        var config = BertConfig.FromJsonFile(Path.Combine(directory, "config.json"));
        var labels = config.Id2Label ?? Enumerable.Range(0, config.NumLabels).Select(i => $"LABEL_{i}").ToList();
        var (vocab, tokenizerOptions) = PretrainedEncoder.ReadVocabulary(directory);
        var meta = File.Exists(Path.Combine(directory, MetaFile))
            ? JsonSerializer.Deserialize<Meta>(File.ReadAllText(Path.Combine(directory, MetaFile))) ?? new Meta(128, 1)
            : new Meta(Math.Min(512, config.MaxPositionEmbeddings), 1);
        var model = new BertForSequenceClassification(config);
        var weights = PretrainedEncoder.NormalizeKeys(HfCheckpoint.LoadFolder(directory), config);
        try
        {
            StateDictLoader.LoadInto(model, weights, strict: true);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
        return new FineTunedTextClassifier(model, vocab, tokenizerOptions, labels, meta.MaxLength, TorchDevices.Parse(device));
    }

    /// <summary>Frees the weights once the scoring calls in flight have returned; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _inUse.EnterWriteLock();
        try
        {
            if (_disposed) return;
            Volatile.Write(ref _disposed, true);
            Model.Dispose();
        }
        finally
        {
            _inUse.ExitWriteLock();
        }
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private sealed record Meta([property: JsonPropertyName("max_length")] int MaxLength, [property: JsonPropertyName("format_version")] int FormatVersion);
}
