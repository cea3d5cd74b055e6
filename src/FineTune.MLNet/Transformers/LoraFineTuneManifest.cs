using System.Text.Json;
using System.Text.Json.Serialization;
using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training.Tasks.Sft;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// What a saved <see cref="LoraFineTuneTransformer"/> needs besides its PEFT adapter: the base checkpoint folder (kept
/// by reference, as PEFT's <c>base_model_name_or_path</c>), the columns, and the data and generation settings.
/// Serialised as <c>lora_finetune.json</c>.
/// </summary>
internal sealed record LoraFineTuneManifest(
    [property: JsonPropertyName("base_model")] string BaseModel,
    [property: JsonPropertyName("prompt_column")] string PromptColumn,
    [property: JsonPropertyName("output_column")] string OutputColumn,
    [property: JsonPropertyName("inference_batch_size")] int InferenceBatchSize,
    [property: JsonPropertyName("lora")] LoraSettings Lora,
    [property: JsonPropertyName("data")] SftDataOptions Data,
    [property: JsonPropertyName("generation")] GenerationOptions Generation)
{
    public const string FileName = "lora_finetune.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    public static LoraFineTuneManifest From(CausalLmSettings s) =>
        new(PretrainedDecoders.IsName(s.Model) && !Directory.Exists(s.Model) ? s.Model : Path.GetFullPath(s.Model), s.PromptColumnName, s.OutputColumnName, s.InferenceBatchSize, s.Lora, s.Data, s.Generation);

    public CausalLmSettings ToSettings() => new()
    {
        Model = BaseModel, PromptColumnName = PromptColumn, OutputColumnName = OutputColumn, InferenceBatchSize = InferenceBatchSize,
        Lora = Lora, Data = Data, Generation = Generation,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static LoraFineTuneManifest Read(string path)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<LoraFineTuneManifest>(File.ReadAllText(path), Json)
                           ?? throw new InvalidDataException($"{path} is empty.");
            manifest.ToSettings().Validate();
            return manifest;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid LoRA fine-tune manifest: {e.Message}", e);
        }
    }
}
