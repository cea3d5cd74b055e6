using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FineTune.MLNet.Transformers;

/// <summary>
/// Saves and loads a whole fitted pipeline that mixes ML.NET transformers with FineTune.MLNet ones.
/// <c>mlContext.Model.Save</c> cannot store transformers from outside ML.NET (its loader registry is internal), so the
/// chain is cut into segments: runs of stock transformers are saved with <c>mlContext.Model.Save</c> as
/// <c>segment-N.zip</c>, each FineTune.MLNet transformer as its own folder (a classifier's HF model folder; a LoRA causal
/// LM's PEFT adapter plus the path of its base checkpoint, and after a DPO fit its metric history), listed in <c>pipeline.json</c>.
/// The folder is written under a temporary name and renamed into place.
/// </summary>
public static class FineTunePipeline
{
    private const string ManifestFile = "pipeline.json";

    /// <summary>Saves <paramref name="model"/> (a transformer or a chain) that was fitted on <paramref name="inputSchema"/>.</summary>
    public static void Save(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string directory)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(directory))!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".tmp-{Path.GetFileName(Path.GetFullPath(directory))}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        var segments = new List<Segment>();
        var pending = new List<ITransformer>();
        var schema = inputSchema;
        var pendingSchema = inputSchema;
        void Flush()
        {
            if (pending.Count == 0) return;
            var name = $"segment-{segments.Count}.zip";
            mlContext.Model.Save(new TransformerChain<ITransformer>(pending.ToArray()), pendingSchema, Path.Combine(temp, name));
            segments.Add(new Segment("mlnet", name));
            pending.Clear();
        }
        foreach (var t in Flatten(model))
        {
            if (t is TextClassificationTransformer classifier)
            {
                Flush();
                var name = $"segment-{segments.Count}-text-classifier";
                classifier.Save(Path.Combine(temp, name));
                segments.Add(new Segment("text-classifier", name));
            }
            else if (t is LoraFineTuneTransformer lora)
            {
                Flush();
                var name = $"segment-{segments.Count}-lora-finetune";
                lora.Save(Path.Combine(temp, name));
                segments.Add(new Segment("lora-finetune", name));
            }
            else
            {
                if (pending.Count == 0) pendingSchema = schema;
                pending.Add(t);
            }
            schema = t.GetOutputSchema(schema);
        }
        Flush();
        File.WriteAllText(Path.Combine(temp, ManifestFile), JsonSerializer.Serialize(segments, new JsonSerializerOptions { WriteIndented = true }));
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        Directory.Move(temp, directory);
    }

    /// <summary>Loads a pipeline saved by <see cref="Save"/>.</summary>
    public static ITransformer Load(MLContext mlContext, string directory, string device = "cpu")
    {
        var manifest = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifest)) throw new FileNotFoundException($"'{directory}' is not a saved FineTune.MLNet pipeline: {ManifestFile} is missing.", manifest);
        List<Segment> segments;
        try
        {
            segments = JsonSerializer.Deserialize<List<Segment>>(File.ReadAllText(manifest)) ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{manifest} is not valid: {e.Message}", e);
        }
        var parts = new List<ITransformer>();
        foreach (var s in segments)
        {
            if (s.Path.Contains("..") || Path.IsPathRooted(s.Path)) throw new InvalidDataException($"{manifest}: segment path '{s.Path}' must stay inside the folder.");
            var path = Path.Combine(directory, s.Path);
            parts.Add(s.Kind switch
            {
                "mlnet" => mlContext.Model.Load(path, out _),
                "text-classifier" => TextClassificationTransformer.Load(path, device),
                "lora-finetune" => LoraFineTuneTransformer.Load(path, device),
                "dpo-finetune" => LoraFineTuneTransformer.Load(path, device),   // written by versions with a DPO transformer of its own
                _ => throw new InvalidDataException($"{manifest}: unknown segment kind '{s.Kind}'."),
            });
        }
        return new TransformerChain<ITransformer>(parts.ToArray());
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer t) =>
        t is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [t];

    private sealed record Segment(string Kind, string Path);
}
