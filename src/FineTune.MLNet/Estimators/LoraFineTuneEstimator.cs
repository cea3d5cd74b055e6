using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Runs;
using FineTune.MLNet.Training.Tasks.Sft;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace FineTune.MLNet.Estimators;

/// <summary>
/// LoRA / QLoRA supervised fine-tuning of a decoder-only LLM (llama, mistral, qwen2 checkpoints as Hugging Face saves
/// them). Input: prompt + response String columns, or a chat-messages JSON column. The chat template of the checkpoint
/// is applied in training exactly as in generation; the loss covers response tokens only (EOS included). Output of the
/// fitted <see cref="LoraFineTuneTransformer"/>: a generated-answer column for the prompt column. The adapter saves in
/// PEFT's format. Checked against: the numpy reference of HF's Llama/Qwen2 forward and PEFT's LoRA merge (logits within 1e-4).
/// </summary>
public sealed class LoraFineTuneEstimator : IEstimator<LoraFineTuneTransformer>
{
    private readonly IChannelProvider _env;
    private readonly IDataView? _validation;

    public LoraFineTuneEstimator(MLContext mlContext, LoraFineTuneOptions options, IDataView? validationSet = null)
        : this((IChannelProvider)mlContext, options, validationSet)
    {
    }

    internal LoraFineTuneEstimator(IChannelProvider env, LoraFineTuneOptions options, IDataView? validationSet)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _env = env;
        Options = options;
        _validation = validationSet;
    }

    public LoraFineTuneOptions Options { get; }

    public LoraFineTuneTransformer Fit(IDataView input)
    {
        var o = Options;
        using var channel = _env.Start(nameof(LoraFineTuneEstimator));
        var device = TorchDevices.Parse(o.Device);
        // The architecture first: another model's folder is named by its model_type, not by a tokenizer file it lacks.
        var folder = PretrainedDecoders.ResolveFolder(o.Model);     // a bundled name ("tinystories-260k") or a folder
        _ = LlamaConfig.FromJsonFile(Path.Combine(folder, "config.json"));
        var tokenizer = HfTokenizer.FromFolder(folder);
        var builder = new SftExampleBuilder(tokenizer, o.Data);
        var train = Build(builder, input, "training data");
        var valid = _validation is null ? null : Build(builder, _validation, "validation data");
        channel.Log($"SFT data: {train.Examples.Count} examples, {train.TokenCount} tokens ({train.SupervisedTokenCount} supervised), {train.TruncatedCount} truncated to {o.Data.MaxLength}.");
        if (train.ExamplesWithoutSupervisedTokens > 0)
            channel.Log($"Warning: {train.ExamplesWithoutSupervisedTokens} examples have no supervised token left after truncation.");

        random.manual_seed(o.Seed);
        var model = LlamaForCausalLM.FromPretrained(folder, o.Lora, o.Device);
        model.GradientCheckpointing = o.GradientCheckpointing;
        var sequences = o.Packing ? new SftPacker(o.Data.MaxLength).Pack(train.Examples) : train.Examples.Select(e => e.ToSequence()).ToList();
        var validSequences = valid?.Examples.Select(e => e.ToSequence()).ToList();
        var trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        var total = model.parameters().Sum(p => p.numel());
        channel.Log($"{(o.Lora.QuantizeBase ? "QLoRA" : "LoRA")} r={o.Lora.Rank} on [{string.Join(", ", o.Lora.TargetModules)}]: {trainable} trainable of {total} parameters; {sequences.Count} training rows{(o.Packing ? " (packed)" : "")}.");
        var task = new SftTask(model, sequences, validSequences, SftCollator.ForTokenizer(tokenizer), o.Packing, o.BatchSize, device);
        string[] columns = o.MessagesColumnName is { } m ? [m] : [o.PromptColumnName, o.ResponseColumnName];
        using var run = RunRecorder.Start(_env, nameof(LoraFineTuneEstimator), o,
            () => RunFingerprints.Model(o.Model, PretrainedDecoders.IsName(o.Model) ? o.Model : null, folder),
            () => RunFingerprints.DataSets(input, _validation, columns), o.Progress);
        var report = new TrainingLoop(o, channel, run).Run(model, task);
        channel.Log($"Training took {report.TrainSeconds:F1}s at {report.TokensPerSecond:F0} tokens/s.");
        return new LoraFineTuneTransformer(model, tokenizer, builder, o.ToTransformerSettings(), report);
    }

    private SftDataset Build(SftExampleBuilder builder, IDataView data, string what)
    {
        var o = Options;
        try
        {
            return o.MessagesColumnName is { } messages
                ? builder.BuildFromDataView(data, messages)
                : builder.BuildFromDataView(data, o.PromptColumnName, o.ResponseColumnName);
        }
        catch (SftDataException e)
        {
            throw new InvalidDataException($"{what}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The input plus the generated-answer column. Checks every column <see cref="Fit"/> and the fitted transformer read:
    /// the prompt and the response (or the messages) must be String columns.
    /// </summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireText(inputSchema, Options.PromptColumnName, "Prompt");
        if (Options.MessagesColumnName is { } messages) SchemaShapes.RequireText(inputSchema, messages, "Messages");
        else SchemaShapes.RequireText(inputSchema, Options.ResponseColumnName, "Response");
        return SchemaShapes.WithTextColumn(inputSchema, Options.OutputColumnName);
    }
}
