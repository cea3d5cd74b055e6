using System.Text.Json;
using System.Text.Json.Serialization;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Dpo;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// A DPO-aligned LoRA causal LM: generation and adapter saving as <see cref="LoraFineTuneTransformer"/> (which it
/// wraps), plus the DPO metrics of every step and validation pass (<see cref="DpoHistory"/>: reward margin, accuracy,
/// rewards, log-probs).
/// </summary>
public sealed class DpoFineTuneTransformer : ITransformer, IDisposable
{
    private readonly LoraFineTuneTransformer inner;

    internal DpoFineTuneTransformer(LoraFineTuneTransformer inner, IReadOnlyList<DpoProgress> history)
    {
        this.inner = inner;
        DpoHistory = history;
    }

    public LlamaForCausalLM Model => inner.Model;
    public CausalLmSettings Settings => inner.Settings;
    public HfTokenizer Tokenizer => inner.Tokenizer;
    public TextGenerator Generator => inner.Generator;
    public TrainingReport? TrainingReport => inner.TrainingReport;

    /// <summary>DPO metrics after each optimizer step and validation pass, in order.</summary>
    public IReadOnlyList<DpoProgress> DpoHistory { get; }

    public bool IsRowToRowMapper => false;

    /// <summary>Token ids of a prompt formatted as in training.</summary>
    public int[] PromptIds(string prompt) => inner.PromptIds(prompt);

    /// <summary>Answers to prompts, in order.</summary>
    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions? options = null) => inner.Generate(prompts, options);

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inner.GetOutputSchema(inputSchema);

    public IDataView Transform(IDataView input) => inner.Transform(input);

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw new NotSupportedException("DpoFineTuneTransformer generates in batches and has no row-to-row mapper; use Transform or Generate.");

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("mlContext.Model.Save cannot store a FineTune.MLNet transformer; use FineTunePipeline.Save, Save, SaveAdapter (PEFT format) or SaveMerged.");

    /// <summary>
    /// Saves what <see cref="LoraFineTuneTransformer.Save"/> saves (PEFT adapter under <c>adapter/</c>, base path, columns,
    /// data and generation settings) plus the DPO history as <c>dpo_history.json</c>; <see cref="Load"/> reads it back.
    /// </summary>
    public void Save(string directory)
    {
        inner.Save(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, HistoryFileName), JsonSerializer.Serialize(DpoHistory, HistoryJson));
    }

    /// <summary>Loads a folder written by <see cref="Save"/>; the base checkpoint must still be at the recorded path.</summary>
    public static DpoFineTuneTransformer Load(string directory, string device = "cpu")
    {
        var historyPath = Path.Combine(directory, HistoryFileName);
        if (!File.Exists(historyPath)) throw new FileNotFoundException($"'{directory}' is not a saved DPO transformer: {HistoryFileName} is missing.", historyPath);
        List<DpoProgress> history;
        try
        {
            history = JsonSerializer.Deserialize<List<DpoProgress>>(File.ReadAllText(historyPath), HistoryJson)
                      ?? throw new InvalidDataException($"{historyPath} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{historyPath} is not a valid DPO history: {e.Message}", e);
        }
        return new DpoFineTuneTransformer(LoraFineTuneTransformer.Load(directory, device), history);
    }

    /// <summary>Writes <c>adapter_config.json</c> + <c>adapter_model.safetensors</c> as PEFT does.</summary>
    public void SaveAdapter(string directory) => inner.SaveAdapter(directory);

    /// <summary>Writes a Hugging Face checkpoint with the adapter merged in.</summary>
    public void SaveMerged(string directory) => inner.SaveMerged(directory);

    public void Dispose() => inner.Dispose();

    private const string HistoryFileName = "dpo_history.json";

    private static readonly JsonSerializerOptions HistoryJson = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
