using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// A LoRA-tuned causal LM. <see cref="Transform"/> appends a String column with the model's answer to each prompt
/// (batched, left-padded generation with a KV cache), prompts formatted exactly as in training.
/// Save the adapter with <see cref="SaveAdapter"/> (PEFT format, loadable by Python PEFT and vLLM) or a merged
/// checkpoint with <see cref="SaveMerged"/>.
/// </summary>
public sealed class LoraFineTuneTransformer : ITransformer, IDisposable
{
    private readonly SftExampleBuilder promptFormatter;

    internal LoraFineTuneTransformer(LlamaForCausalLM model, HfTokenizer tokenizer, SftExampleBuilder promptFormatter, CausalLmSettings settings, TrainingReport? report)
    {
        Model = model;
        Tokenizer = tokenizer;
        this.promptFormatter = promptFormatter;
        Settings = settings;
        TrainingReport = report;
        Generator = new TextGenerator(model, tokenizer);
    }

    public LlamaForCausalLM Model { get; }
    public HfTokenizer Tokenizer { get; }
    public TextGenerator Generator { get; }
    /// <summary>Base checkpoint, columns, prompt formatting and generation settings.</summary>
    public CausalLmSettings Settings { get; }
    public TrainingReport? TrainingReport { get; }

    public bool IsRowToRowMapper => false;

    /// <summary>Token ids of a prompt formatted as in training (system prompt, chat template, generation prompt).</summary>
    public int[] PromptIds(string prompt) => promptFormatter.PromptIds(prompt);

    /// <summary>Answers to prompts, in order.</summary>
    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions? options = null)
    {
        var ids = prompts.Select(p => (IReadOnlyList<int>)PromptIds(p)).ToList();
        return Generator.GenerateFromIds(ids, options ?? Settings.Generation).Select(r => r.Text.Trim()).ToList();
    }

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        var col = inputSchema.GetColumnOrNull(Settings.PromptColumnName)
                  ?? throw new ArgumentOutOfRangeException("Prompt", $"Prompt column '{Settings.PromptColumnName}' was not found in the input.");
        if (col.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException("Prompt", $"Prompt column '{Settings.PromptColumnName}' must be of type String, but is {col.Type}.");
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(Settings.OutputColumnName, TextDataViewType.Instance);
        return builder.ToSchema();
    }

    public IDataView Transform(IDataView input) => new GeneratedTextDataView(this, input, GetOutputSchema(input.Schema));

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw new NotSupportedException("LoraFineTuneTransformer generates in batches and has no row-to-row mapper; use Transform or Generate.");

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("mlContext.Model.Save cannot store a FineTune.MLNet transformer; use FineTunePipeline.Save, Save, SaveAdapter (PEFT format) or SaveMerged.");

    /// <summary>
    /// Saves the PEFT adapter under <c>adapter/</c> plus <c>lora_finetune.json</c> (base checkpoint path, columns, data and
    /// generation settings); <see cref="Load"/> rebuilds the transformer from the base checkpoint and the adapter.
    /// </summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        SaveAdapter(Path.Combine(directory, "adapter"));
        AtomicFile.WriteAllText(Path.Combine(directory, LoraFineTuneManifest.FileName), LoraFineTuneManifest.From(Settings).ToJson());
    }

    /// <summary>Loads a folder written by <see cref="Save"/>; the base checkpoint must still be at the recorded path.</summary>
    public static LoraFineTuneTransformer Load(string directory, string device = "cpu")
    {
        var manifest = LoraFineTuneManifest.Read(Path.Combine(directory, LoraFineTuneManifest.FileName));
        var baseFolder = PretrainedDecoders.ResolveFolder(manifest.BaseModel);
        if (!Directory.Exists(baseFolder))
            throw new DirectoryNotFoundException($"The base checkpoint '{manifest.BaseModel}' recorded in {directory}/{LoraFineTuneManifest.FileName} does not exist.");
        var settings = manifest.ToSettings();
        // The recorded settings (not only adapter_config.json) rebuild the layers, so a QLoRA model gets its NF4 base back.
        var model = LlamaForCausalLM.FromPretrained(baseFolder, manifest.Lora, device);
        try
        {
            PeftAdapterIO.Load(model, Path.Combine(directory, "adapter"));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        var tokenizer = HfTokenizer.FromFolder(baseFolder);
        return new LoraFineTuneTransformer(model, tokenizer, new SftExampleBuilder(tokenizer, settings.Data), settings, null);
    }

    /// <summary>Writes <c>adapter_config.json</c> + <c>adapter_model.safetensors</c> as PEFT does.</summary>
    public void SaveAdapter(string directory) => PeftAdapterIO.Save(Model, Settings.Lora, directory, Settings.Model);

    /// <summary>Writes a Hugging Face checkpoint with the adapter merged in (QLoRA bases are dequantized first).</summary>
    public void SaveMerged(string directory) => LlamaCheckpointWriter.SaveMerged(Model, directory);

    public void Dispose() => Model.Dispose();

    private sealed class GeneratedTextDataView(LoraFineTuneTransformer owner, IDataView input, DataViewSchema schema) : IDataView
    {
        public bool CanShuffle => false;
        public DataViewSchema Schema => schema;
        public long? GetRowCount() => input.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            new LookaheadBatchCursor<string>(schema, input, columnsNeeded, [owner.Settings.PromptColumnName], owner.Settings.InferenceBatchSize,
                rows => owner.Generate(rows.Select(r => r[0]).ToList()),
                (cursor, _) => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = cursor.Current.AsMemory()));

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded, rand)];
    }
}
