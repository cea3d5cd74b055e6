using System.Text.Json;
using FineTune.MLNet.Formats.Json;

namespace FineTune.MLNet.Planning;

/// <summary>
/// One finished run, cost against quality, from its folder: <c>metrics.json</c> as <c>finetune classify|sft|dpo</c>
/// write it (train time; the task metric of the tuned model and of the untuned baseline) and the size on disk of what it
/// saved (the adapter or model folder, an ONNX file).
/// </summary>
/// <param name="Run">The run folder.</param>
/// <param name="Task">classify, sft or dpo (from the metrics present).</param>
/// <param name="TrainSeconds">Training wall time.</param>
/// <param name="PeakMemoryBytes">Peak memory when the run recorded it (<c>peak_memory_bytes</c> or <c>peak_rss_bytes</c>); else null.</param>
/// <param name="SavedBytes">Bytes of the adapter/model the run saved.</param>
/// <param name="Metric">Name of the quality metric compared.</param>
/// <param name="Tuned">The metric of the fine-tuned model.</param>
/// <param name="Baseline">The metric without fine-tuning (zero-shot / base model), when the run measured it.</param>
/// <param name="BaselineName">What the baseline is.</param>
public sealed record RunComparison(string Run, string Task, double? TrainSeconds, double? PeakMemoryBytes, long SavedBytes,
    string Metric, double? Tuned, double? Baseline, string BaselineName)
{
    /// <summary>Reads a run folder.</summary>
    /// <exception cref="FileNotFoundException">The folder has no metrics.json.</exception>
    /// <exception cref="InvalidDataException">metrics.json is not a JSON object, or holds no metric of a known task.</exception>
    public static RunComparison Read(string runFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(runFolder);
        var path = Path.Combine(runFolder, "metrics.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"--compare: '{runFolder}' has no metrics.json (is it the --output folder of a finished run?).", path);
        using var doc = JsonInput.ParseFile(path, "Run metrics", (problem, inner) => new InvalidDataException($"{path} {problem}.", inner), JsonInput.MaxConfigFileBytes);
        var m = doc.RootElement;
        if (m.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object of metrics.");
        double? Number(string name) => m.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        string? Text(string name) => m.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        string task; string metric; double? tuned, baseline; string baselineName; string? saved;
        if (Number("zero_shot_accuracy") is not null || Number("majority_class_accuracy") is not null)
        {
            var zeroShot = Number("zero_shot_accuracy") is not null;   // sentence-pair runs compare with the majority class
            (task, metric, tuned, baseline, baselineName) = ("classify", "macro_f1", Number("macro_f1"),
                Number(zeroShot ? "zero_shot_macro_f1" : "majority_class_macro_f1"), zeroShot ? "zero-shot" : "majority class");
            saved = Text("model_dir");
        }
        else if (Number("rewards/accuracies") is not null || Number("eval_rewards/accuracies") is not null)
        {
            var eval = Number("eval_rewards/accuracies") is not null;
            (task, metric, tuned, baseline, baselineName) = ("dpo", eval ? "eval_rewards/accuracies" : "rewards/accuracies",
                Number(eval ? "eval_rewards/accuracies" : "rewards/accuracies"), 0.5, "reference (chance)");
            saved = Text("adapter_dir");
        }
        else if (Number("token_f1") is not null || Number("validation_perplexity") is not null || m.TryGetProperty("adapter_dir", out _))
        {
            task = "sft";
            saved = Text("adapter_dir");
            (metric, tuned, baseline, baselineName) = Number("token_f1") is not null
                ? ("token_f1", Number("token_f1"), Number("base_token_f1"), "base model")
                : ("validation_perplexity", Number("validation_perplexity"), null, "base model");
        }
        else
        {
            throw new InvalidDataException($"{path}: no metric of finetune classify (zero_shot_accuracy or majority_class_accuracy), sft (token_f1, validation_perplexity) or dpo (rewards/accuracies).");
        }

        long bytes = SizeOnDisk(saved is not null && Directory.Exists(saved) ? saved : Path.Combine(runFolder, task == "classify" ? "model" : "adapter"));
        if (Text("onnx_model") is { } onnx && File.Exists(onnx)) bytes += new FileInfo(onnx).Length;
        return new RunComparison(runFolder, task, Number("train_seconds"), Number("peak_memory_bytes") ?? Number("peak_rss_bytes"), bytes, metric, tuned, baseline, baselineName);
    }

    /// <summary>Bytes of the files under <paramref name="path"/> (a file or a folder); 0 when missing.</summary>
    public static long SizeOnDisk(string path)
    {
        if (File.Exists(path)) return new FileInfo(path).Length;
        if (!Directory.Exists(path)) return 0;
        return new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
    }
}
