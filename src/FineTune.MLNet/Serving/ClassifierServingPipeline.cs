using FineTune.MLNet.Classification;
using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Serving;

/// <summary>
/// A fine-tuned classifier as a pipeline of ML.NET's own transforms, so plain <c>mlContext.Model.Save</c> writes it,
/// ONNX model included, to one .zip and <c>mlContext.Model.Load</c> reads it back in any process that references this
/// library (after <see cref="RegisterComponents"/>, ML.NET's <c>ComponentCatalog.RegisterAssembly</c>):
/// <list type="number">
/// <item><c>CustomMapping</c> <see cref="TokenizerKeyMapping"/>: a constant key column;</item>
/// <item><c>MapValue</c>: key → tokenizer data (settings + <c>vocab.txt</c>), stored in the .zip by ML.NET;</item>
/// <item><c>CustomMapping</c> <see cref="WordPieceMapping{TOutput}"/>: WordPiece ids, mask and token types, padded
/// (<see cref="WordPiecePairMapping{TOutput}"/> for sentence pairs: <c>Text</c> and <c>SecondText</c>, <c>[SEP]</c>
/// between, token types 0 / 1);</item>
/// <item><c>ApplyOnnxModel</c>: the exported classifier (GPU device id, fallback to CPU) → <c>probabilities</c>;</item>
/// <item><c>CopyColumns</c> → <c>Score</c>; <c>CustomMapping</c> <see cref="ArgMaxMapping"/>; <c>MapValue</c> index →
/// label key; <c>MapKeyToValue</c> → <c>PredictedLabel</c>; <c>DropColumns</c> of the intermediate columns.</item>
/// </list>
/// </summary>
public sealed class ClassifierServingPipeline
{
    private ClassifierServingPipeline(MLContext mlContext, ITransformer model, DataViewSchema inputSchema)
    {
        MLContext = mlContext;
        Model = model;
        InputSchema = inputSchema;
    }

    public MLContext MLContext { get; }

    /// <summary>The fitted pipeline (an ML.NET <c>TransformerChain</c>).</summary>
    public ITransformer Model { get; }

    /// <summary>Its input schema: the String column <see cref="ServingColumns.Text"/> (and <see cref="ServingColumns.SecondText"/> for pairs).</summary>
    public DataViewSchema InputSchema { get; }

    /// <summary>Whether it classifies sentence pairs: its input schema has <see cref="ServingColumns.SecondText"/> (use <see cref="CreatePairPredictionEngine"/>).</summary>
    public bool IsSentencePair => InputSchema.GetColumnOrNull(ServingColumns.SecondText) is not null;

    /// <summary>Builds the pipeline of <paramref name="classifier"/> (sentence pairs when <see cref="ServingPipelineOptions.SentencePair"/>).</summary>
    public static ClassifierServingPipeline Create(MLContext mlContext, FineTunedTextClassifier classifier, ServingPipelineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(classifier);
        options ??= new ServingPipelineOptions();
        options.Validate();
        RegisterComponents(mlContext);
        var length = WordPieceMappingLengths.Lengths.FirstOrDefault(l => l >= classifier.MaxLength);
        if (length == 0)
            throw new ArgumentException($"The classifier's maximum length {classifier.MaxLength} is above the longest serving length {WordPieceMappingLengths.Lengths[^1]}.", nameof(classifier));

        var positions = classifier.Model.Config.MaxPositionEmbeddings;
        if (length > positions)
            throw new ArgumentException($"The serving pipeline pads to {length} tokens (the smallest of {string.Join(", ", WordPieceMappingLengths.Lengths)} at least the classifier's maximum length {classifier.MaxLength}), more than the model's {positions} position embeddings.", nameof(classifier));
        var onnxModel = BertOnnxExporter.BuildModel(classifier.Model);
        if (options.Int8) OnnxDynamicQuantizer.Quantize(onnxModel);
        var onnx = OnnxModelWriter.ToBytes(onnxModel);
        var inputs = onnxModel.Graph.Inputs.Select(i => i.Name).ToArray();   // DistilBERT has no token_type_ids
        var shapes = inputs.ToDictionary(n => n, _ => new[] { 1, length });
        shapes[ServingColumns.OnnxProbabilities] = [1, classifier.Labels.Count];
        var tokenizerData = ServingTokenizerData.Encode(classifier.Vocabulary.Span, classifier.TokenizerOptions, classifier.MaxLength);
        var labels = classifier.Labels.Select((label, i) => new KeyValuePair<int, string>(i, label));

        var transforms = mlContext.Transforms;
        var pipeline = transforms.CustomMapping<TokenizerKeyMapping.Input, TokenizerKeyMapping.Output>(TokenizerKeyMapping.Map, TokenizerKeyMapping.ContractName)
            .Append(transforms.Conversion.MapValue(ServingColumns.TokenizerData,
                [new KeyValuePair<string, string>(ServingTokenizerData.Key, tokenizerData)], ServingColumns.TokenizerKey))
            .Append(options.SentencePair ? WordPiecePair(mlContext, length) : WordPiece(mlContext, length))
            .Append(transforms.ApplyOnnxModel([ServingColumns.OnnxProbabilities], inputs, new MemoryStream(onnx), shapes,
                options.GpuDeviceId, options.FallbackToCpu))
            .Append(transforms.CopyColumns(ServingColumns.Score, ServingColumns.OnnxProbabilities))
            .Append(transforms.CustomMapping<ArgMaxMapping.Input, ArgMaxMapping.Output>(ArgMaxMapping.Map, ArgMaxMapping.ContractName))
            .Append(transforms.Conversion.MapValue(ServingColumns.PredictedLabelKey, labels, ServingColumns.PredictedIndex, treatValuesAsKeyType: true))
            .Append(transforms.Conversion.MapKeyToValue(ServingColumns.PredictedLabel, ServingColumns.PredictedLabelKey))
            .Append(transforms.DropColumns([ServingColumns.TokenizerKey, ServingColumns.TokenizerData, .. ServingColumns.OnnxInputs,
                ServingColumns.OnnxProbabilities, ServingColumns.PredictedIndex]));

        var sample = options.SentencePair
            ? mlContext.Data.LoadFromEnumerable([new ServingPairInput { Text = "fit", SecondText = "fit" }])
            : mlContext.Data.LoadFromEnumerable([new ServingInput { Text = "fit" }]);
        return new ClassifierServingPipeline(mlContext, pipeline.Fit(sample), sample.Schema);
    }

    /// <summary>Writes the whole pipeline (ONNX model and vocabulary inside) with <c>mlContext.Model.Save</c>.</summary>
    public void Save(string path) => MLContext.Model.Save(Model, InputSchema, path);

    /// <summary><c>RegisterComponents</c> then <c>mlContext.Model.Load</c>.</summary>
    public static ClassifierServingPipeline Load(MLContext mlContext, string path)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        if (!File.Exists(path)) throw new FileNotFoundException($"Serving model '{path}' does not exist.", path);
        RegisterComponents(mlContext);
        var model = mlContext.Model.Load(path, out var schema);
        return new ClassifierServingPipeline(mlContext, model, schema);
    }

    /// <summary>
    /// Registers this library's custom mappings with <paramref name="mlContext"/> (ML.NET's
    /// <c>ComponentCatalog.RegisterAssembly</c>), which <c>mlContext.Model.Load</c> needs to rebuild them.
    /// </summary>
    public static void RegisterComponents(MLContext mlContext) =>
        mlContext.ComponentCatalog.RegisterAssembly(typeof(ClassifierServingPipeline).Assembly);

    /// <summary>A prediction engine over <see cref="ServingInput"/> / <see cref="ServingPrediction"/>.</summary>
    public PredictionEngine<ServingInput, ServingPrediction> CreatePredictionEngine() =>
        MLContext.Model.CreatePredictionEngine<ServingInput, ServingPrediction>(Model, InputSchema);

    /// <summary>A prediction engine over <see cref="ServingPairInput"/> / <see cref="ServingPrediction"/> (sentence-pair pipelines).</summary>
    public PredictionEngine<ServingPairInput, ServingPrediction> CreatePairPredictionEngine() =>
        MLContext.Model.CreatePredictionEngine<ServingPairInput, ServingPrediction>(Model, InputSchema);

    private static IEstimator<ITransformer> WordPiece(MLContext mlContext, int length) => length switch
    {
        64 => WordPiece<WordPiece64Mapping, WordPiece64Mapping.Padded>(mlContext, length),
        128 => WordPiece<WordPiece128Mapping, WordPiece128Mapping.Padded>(mlContext, length),
        256 => WordPiece<WordPiece256Mapping, WordPiece256Mapping.Padded>(mlContext, length),
        512 => WordPiece<WordPiece512Mapping, WordPiece512Mapping.Padded>(mlContext, length),
        _ => throw new ArgumentOutOfRangeException(nameof(length), length, "no WordPiece mapping pads to this length"),
    };

    private static IEstimator<ITransformer> WordPiecePair(MLContext mlContext, int length) => length switch
    {
        64 => WordPiecePair<WordPiecePair64Mapping, WordPiece64Mapping.Padded>(mlContext, length),
        128 => WordPiecePair<WordPiecePair128Mapping, WordPiece128Mapping.Padded>(mlContext, length),
        256 => WordPiecePair<WordPiecePair256Mapping, WordPiece256Mapping.Padded>(mlContext, length),
        512 => WordPiecePair<WordPiecePair512Mapping, WordPiece512Mapping.Padded>(mlContext, length),
        _ => throw new ArgumentOutOfRangeException(nameof(length), length, "no WordPiece pair mapping pads to this length"),
    };

    private static IEstimator<ITransformer> WordPiecePair<TFactory, TOutput>(MLContext mlContext, int length)
        where TFactory : WordPiecePairMapping<TOutput>, new()
        where TOutput : class, IWordPieceInputs, new() =>
        mlContext.Transforms.CustomMapping(new TFactory().GetMapping(), WordPieceMappingLengths.PairContractName(length));

    private static IEstimator<ITransformer> WordPiece<TFactory, TOutput>(MLContext mlContext, int length)
        where TFactory : WordPieceMapping<TOutput>, new()
        where TOutput : class, IWordPieceInputs, new() =>
        mlContext.Transforms.CustomMapping(new TFactory().GetMapping(), WordPieceMappingLengths.ContractName(length));
}

/// <summary><c>transformer.ToServingPipeline(mlContext)</c>.</summary>
public static class ServingPipelineExtensions
{
    /// <summary>The ML.NET-native serving pipeline of a fitted text classifier (see <see cref="ClassifierServingPipeline"/>).</summary>
    public static ClassifierServingPipeline ToServingPipeline(this TextClassificationTransformer transformer, MLContext mlContext, ServingPipelineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        options = (options ?? new ServingPipelineOptions()) with { SentencePair = transformer.Columns.Pair is not null };
        return ClassifierServingPipeline.Create(mlContext, transformer.Classifier, options);
    }
}
