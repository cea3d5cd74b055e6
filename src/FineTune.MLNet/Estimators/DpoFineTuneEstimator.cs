using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Data;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Runs;
using FineTune.MLNet.Training.Tasks.Dpo;
using FineTune.MLNet.Training.Tasks.Sft;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace FineTune.MLNet.Estimators;

/// <summary>
/// DPO preference alignment (Rafailov et al. 2023; TRL <c>DPOTrainer</c>, sigmoid loss) of a decoder-only LLM with LoRA
/// adapters, fresh or continued from an SFT adapter (<see cref="DpoFineTuneOptions.AdapterPath"/>). Input: prompt,
/// chosen and rejected String columns. Prompts are formatted as in SFT and generation (chat template, BOS); each
/// completion is scored with its EOS. The reference model is the same model with adapters off. The reward margin,
/// accuracy and TRL's other metrics are logged each step to the ML.NET channel, reported to
/// <see cref="DpoFineTuneOptions.DpoProgress"/> and kept in <see cref="LoraFineTuneTransformer.DpoHistory"/>.
/// The fitted transformer is the same <see cref="LoraFineTuneTransformer"/> SFT returns: a generated-answer column for the prompt column; the adapter saves in PEFT's
/// format. Checked against the numpy reference's TRL DPO loss/metrics and completion log-probs (within 1e-4).
/// </summary>
public sealed class DpoFineTuneEstimator : IEstimator<LoraFineTuneTransformer>
{
    private readonly IChannelProvider _env;
    private readonly IDataView? _validation;

    public DpoFineTuneEstimator(MLContext mlContext, DpoFineTuneOptions options, IDataView? validationSet = null)
        : this((IChannelProvider)mlContext, options, validationSet)
    {
    }

    internal DpoFineTuneEstimator(IChannelProvider env, DpoFineTuneOptions options, IDataView? validationSet)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _env = env;
        Options = options;
        _validation = validationSet;
    }

    public DpoFineTuneOptions Options { get; }

    public LoraFineTuneTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = Options;
        CheckColumns(input.Schema, "training data");
        if (_validation is not null) CheckColumns(_validation.Schema, "validation data");
        using var channel = _env.Start(nameof(DpoFineTuneEstimator));
        var device = TorchDevices.Parse(o.Device);
        // The architecture first: another model's folder is named by its model_type, not by a tokenizer file it lacks.
        var folder = PretrainedDecoders.ResolveFolder(o.Model);     // a bundled name ("tinystories-260k") or a folder
        _ = LlamaConfig.FromJsonFile(Path.Combine(folder, "config.json"));
        var tokenizer = HfTokenizer.FromFolder(folder);
        var sftBuilder = new SftExampleBuilder(tokenizer, o.Data);
        var builder = new DpoExampleBuilder(sftBuilder);
        var train = Build(builder, input, "training data");
        var valid = _validation is null ? null : Build(builder, _validation, "validation data");
        channel.Log($"DPO data: {train.Count} preference pairs, {train.Sum(p => (long)p.TokenCount)} tokens; beta {o.Beta}, label smoothing {o.LabelSmoothing}.");

        random.manual_seed(o.Seed);
        var model = o.AdapterPath is { } adapter
            ? LlamaForCausalLM.FromPretrainedWithAdapter(folder, adapter, o.Device)
            : LlamaForCausalLM.FromPretrained(folder, o.Lora, o.Device);
        try
        {
            model.GradientCheckpointing = o.GradientCheckpointing;
            var lora = model.Lora!;
            channel.Log($"LoRA r={lora.Rank} on [{string.Join(", ", lora.TargetModules)}]{(o.AdapterPath is null ? "" : $" from {o.AdapterPath}")}: " +
                $"{model.parameters().Where(p => p.requires_grad).Sum(p => p.numel())} trainable parameters; reference = the model with adapters off.");
            using var task = new DpoTask(model, train, valid, SftCollator.ForTokenizer(tokenizer), o.Beta, o.LabelSmoothing, o.InferenceBatchSize, device,
                o.PrecomputeReferenceLogProbs);
            using var run = RunRecorder.Start(_env, nameof(DpoFineTuneEstimator), o,
                () => RunFingerprints.Model(o.Model, PretrainedDecoders.IsName(o.Model) ? o.Model : null, folder, o.AdapterPath),
                () => RunFingerprints.DataSets(input, _validation, [o.PromptColumnName, o.ChosenColumnName, o.RejectedColumnName]), o.Progress);
            var monitor = new DpoMetricsMonitor(channel, o.DpoProgress, run);
            var report = new TrainingLoop(o, channel, monitor).Run(model, task);
            channel.Log($"DPO training took {report.TrainSeconds:F1}s at {report.TokensPerSecond:F0} tokens/s.");
            return new LoraFineTuneTransformer(model, tokenizer, sftBuilder, o.ToTransformerSettings(lora), report, DpoMetricsMonitor.HistoryOf(report.State));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private IReadOnlyList<DpoExample> Build(DpoExampleBuilder builder, IDataView data, string what)
    {
        try
        {
            return builder.BuildFromDataView(data, Options.PromptColumnName, Options.ChosenColumnName, Options.RejectedColumnName);
        }
        catch (SftDataException e)
        {
            throw new InvalidDataException($"{what}: {e.Message}", e);
        }
    }

    /// <summary>Prompt, Chosen and Rejected must be String columns; the error names the role, the column and the type found.</summary>
    private void CheckColumns(DataViewSchema schema, string what)
    {
        var o = Options;
        foreach (var (name, role) in new[] { (o.PromptColumnName, "Prompt"), (o.ChosenColumnName, "Chosen"), (o.RejectedColumnName, "Rejected") })
        {
            try
            {
                TextColumns.Check(schema, name, role);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new ArgumentOutOfRangeException(role, $"{what}: {e.Message.Split(" (Parameter")[0]}");
            }
        }
    }

    /// <summary>The input plus the generated-answer column; the prompt, chosen and rejected columns must be String columns.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireText(inputSchema, Options.PromptColumnName, "Prompt");
        SchemaShapes.RequireText(inputSchema, Options.ChosenColumnName, "Chosen");
        SchemaShapes.RequireText(inputSchema, Options.RejectedColumnName, "Rejected");
        return SchemaShapes.WithTextColumn(inputSchema, Options.OutputColumnName);
    }
}
