using System.Reflection;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace FineTune.MLNet;

/// <summary>ML.NET catalog entry points of FineTune.MLNet.</summary>
public static class FineTuneCatalog
{
    /// <summary>
    /// Fine-tunes a pretrained BERT-family encoder to classify text. Input: <paramref name="textColumnName"/> (String),
    /// optional <paramref name="secondTextColumnName"/>, key-typed <paramref name="labelColumnName"/>. Output: <c>Score</c>
    /// (class probabilities) and <c>PredictedLabel</c> (key).
    /// </summary>
    /// <param name="model"><c>minilm</c> (bundled all-MiniLM-L6-v2) or a Hugging Face BERT/DistilBERT folder.</param>
    /// <param name="loraRank">LoRA rank on the encoder's query/value projections; null = full fine-tuning.</param>
    public static TextClassificationFineTuneEstimator FineTuneTextClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label",
        string textColumnName = "Text",
        string? secondTextColumnName = null,
        string model = "minilm",
        int epochs = 3,
        int batchSize = 16,
        double learningRate = 5e-5,
        int maxLength = 128,
        int? loraRank = null,
        int seed = 42,
        IDataView? validationSet = null)
    {
        var options = new TextClassificationFineTuneOptions
        {
            LabelColumnName = labelColumnName,
            TextColumnName = textColumnName,
            SecondTextColumnName = secondTextColumnName,
            Model = model,
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
            MaxLength = maxLength,
            Lora = loraRank is { } r ? new LoraSettings { Rank = r, Alpha = 2 * r } : null,
            Seed = seed,
        };
        return catalog.FineTuneTextClassifier(options, validationSet);
    }

    /// <summary>Fine-tunes a text classifier with full <see cref="TextClassificationFineTuneOptions"/>.</summary>
    public static TextClassificationFineTuneEstimator FineTuneTextClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        TextClassificationFineTuneOptions options,
        IDataView? validationSet = null) =>
        new(EnvironmentOf(catalog), options, validationSet);

    /// <summary>
    /// LoRA (or QLoRA) supervised fine-tuning of a decoder LLM checkpoint on prompt/response columns; the fitted
    /// transformer writes <paramref name="outputColumnName"/> with generated answers to the prompt column.
    /// </summary>
    /// <param name="model">Hugging Face checkpoint folder (llama, mistral, qwen2).</param>
    /// <param name="qlora">Store the frozen base as 4-bit NF4 (QLoRA).</param>
    public static LoraFineTuneEstimator LoraFineTune(
        this TransformsCatalog catalog,
        string model,
        string promptColumnName = "Prompt",
        string responseColumnName = "Response",
        string outputColumnName = "Generated",
        int loraRank = 8,
        double loraAlpha = 16,
        bool qlora = false,
        int epochs = 3,
        double learningRate = 2e-4,
        int maxLength = 512,
        int seed = 42,
        IDataView? validationSet = null)
    {
        var options = WithFlatArguments(new LoraFineTuneOptions(), model, promptColumnName, outputColumnName, loraRank, loraAlpha, epochs, learningRate, maxLength, seed);
        options = options with { ResponseColumnName = responseColumnName, Lora = options.Lora with { QuantizeBase = qlora } };
        return catalog.LoraFineTune(options, validationSet);
    }

    /// <summary>LoRA / QLoRA supervised fine-tuning with full <see cref="LoraFineTuneOptions"/>.</summary>
    public static LoraFineTuneEstimator LoraFineTune(this TransformsCatalog catalog, LoraFineTuneOptions options, IDataView? validationSet = null) =>
        new(EnvironmentOf(catalog), options, validationSet);

    /// <summary>
    /// DPO preference alignment (TRL sigmoid loss) of a decoder LLM with LoRA adapters on prompt / chosen / rejected String
    /// columns, fresh adapters or continued from an SFT adapter; the reference is the model with adapters off. The fitted
    /// transformer writes <paramref name="outputColumnName"/> with generated answers to the prompt column.
    /// </summary>
    /// <param name="model">Hugging Face checkpoint folder (llama, mistral, qwen2).</param>
    /// <param name="adapterPath">PEFT adapter folder to continue from (e.g. the SFT result); null = fresh adapters of <paramref name="loraRank"/>.</param>
    /// <param name="beta">β of the implicit reward; higher keeps the policy closer to the reference. TRL default 0.1.</param>
    public static DpoFineTuneEstimator DpoFineTune(
        this TransformsCatalog catalog,
        string model,
        string promptColumnName = "Prompt",
        string chosenColumnName = "Chosen",
        string rejectedColumnName = "Rejected",
        string outputColumnName = "Generated",
        string? adapterPath = null,
        double beta = 0.1,
        int loraRank = 8,
        double loraAlpha = 16,
        int epochs = 1,
        double learningRate = 5e-5,
        int maxLength = 512,
        int seed = 42,
        IDataView? validationSet = null)
    {
        var options = WithFlatArguments(new DpoFineTuneOptions(), model, promptColumnName, outputColumnName, loraRank, loraAlpha, epochs, learningRate, maxLength, seed)
            with { ChosenColumnName = chosenColumnName, RejectedColumnName = rejectedColumnName, AdapterPath = adapterPath, Beta = beta };
        return catalog.DpoFineTune(options, validationSet);
    }

    /// <summary>
    /// DPO preference alignment (TRL sigmoid loss) of a decoder LLM with LoRA adapters on prompt / chosen / rejected
    /// String columns; the reference is the model with adapters off. The fitted transformer writes
    /// <see cref="CausalLmFineTuneOptions.OutputColumnName"/> with generated answers and keeps the per-step reward margins.
    /// </summary>
    public static DpoFineTuneEstimator DpoFineTune(this TransformsCatalog catalog, DpoFineTuneOptions options, IDataView? validationSet = null) =>
        new(EnvironmentOf(catalog), options, validationSet);

    /// <summary>The arguments the decoder-LLM flat overloads share, set on <paramref name="defaults"/> (the options' own defaults).</summary>
    private static T WithFlatArguments<T>(T defaults, string model, string promptColumnName, string outputColumnName,
        int loraRank, double loraAlpha, int epochs, double learningRate, int maxLength, int seed) where T : CausalLmFineTuneOptions =>
        (T)((CausalLmFineTuneOptions)defaults with
        {
            Model = model, PromptColumnName = promptColumnName, OutputColumnName = outputColumnName,
            Lora = defaults.Lora with { Rank = loraRank, Alpha = loraAlpha },
            Epochs = epochs, LearningRate = learningRate, Data = defaults.Data with { MaxLength = maxLength }, Seed = seed,
        });

    /// <summary>
    /// The catalog's ML.NET environment, so training logs reach <c>mlContext.Log</c> and the context's seed is kept. ML.NET
    /// exposes it only through an internal interface (<c>IInternalCatalog.Environment</c>), so it is found by reflection; when
    /// that fails (an ML.NET version that renamed it) the error says so and names the estimator constructors as the way round,
    /// rather than training under a fresh context that would lose the seed and the log.
    /// </summary>
    private static IChannelProvider EnvironmentOf(object catalog)
    {
        for (var type = catalog.GetType(); type is not null; type = type.BaseType)
        {
            var property = type.GetProperties(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly)
                .FirstOrDefault(p => p.Name.EndsWith("Environment", StringComparison.Ordinal) && typeof(IChannelProvider).IsAssignableFrom(p.PropertyType));
            if (property?.GetValue(catalog) is IChannelProvider env) return env;
        }
        throw new InvalidOperationException(
            $"FineTune.MLNet could not find the ML.NET environment of {catalog.GetType().FullName} (looked for a property named '*Environment' " +
            $"of type {nameof(IChannelProvider)}); this ML.NET version ({typeof(MLContext).Assembly.GetName().Version}) is not supported by the catalog " +
            "extensions. Construct the estimator directly instead, e.g. new TextClassificationFineTuneEstimator(mlContext, options).");
    }
}
