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
        throw new NotSupportedException("mlContext.Model.Save cannot store a FineTune.MLNet transformer; use SaveAdapter (PEFT format) or SaveMerged.");

    /// <summary>Writes <c>adapter_config.json</c> + <c>adapter_model.safetensors</c> as PEFT does.</summary>
    public void SaveAdapter(string directory) => inner.SaveAdapter(directory);

    /// <summary>Writes a Hugging Face checkpoint with the adapter merged in.</summary>
    public void SaveMerged(string directory) => inner.SaveMerged(directory);

    public void Dispose() => inner.Dispose();
}
