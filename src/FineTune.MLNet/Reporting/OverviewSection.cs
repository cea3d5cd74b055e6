using System.Text.Json;
using static FineTune.MLNet.Reporting.ReportFormat;

namespace FineTune.MLNet.Reporting;

/// <summary>The report's first section: what was trained (task, model, method, main settings) on what (each data set, its rows and fingerprint), and where the results went.</summary>
public static class OverviewSection
{
    /// <summary>The section for <paramref name="inputs"/> of <paramref name="task"/>.</summary>
    public static ReportSection Build(RunFolderInputs inputs, string task)
    {
        var config = inputs.Config;
        var m = inputs.Metrics;
        var what = task switch
        {
            "classify" => "A pretrained encoder was fine-tuned to classify texts into labels",
            "dpo" => "A decoder language model was aligned to preferences with DPO (LoRA adapters; the frozen model with adapters off is the reference)",
            _ => "A decoder language model was fine-tuned on prompt/response pairs with LoRA adapters",
        };
        var model = ModelText(config) ?? m.Text("model") ?? "(not recorded)";
        var trainRows = config?.Data.FirstOrDefault(d => d.Role == "training").Rows ?? m.Number("train_rows");
        var epochs = m.Number("epochs_run") ?? inputs.Log.Train.Select(l => RunMetrics.NumberOf(l, "epoch")).Max();
        var steps = m.Number("optimizer_steps") ?? inputs.Log.Train.Select(l => RunMetrics.NumberOf(l, "step")).Max();
        var text = $"{what}. Base model: {model}. Training rows: {Number(trainRows, "F0")}. It ran {Number(epochs, "F0")} epoch(s), "
                   + $"{Number(steps, "F0")} optimizer steps, in {Duration(CostSection.TrainSeconds(inputs))}.";
        var blocks = new List<ReportBlock> { new ReportParagraph(text) };

        var rows = new List<IReadOnlyList<string>> { new[] { "task", task } };
        rows.Add(["base model", model]);
        if (config?.Library is { } library) rows.Add(["library", library + (config.Estimator is null ? "" : $" ({config.Estimator})")]);
        if (Method(config) is { } method) rows.Add(["method", method]);
        foreach (var (option, label) in new[] { ("epochs", "epochs (asked)"), ("learning_rate", "peak learning rate"), ("batch_size", "batch size"),
                     ("gradient_accumulation_steps", "gradient accumulation"), ("max_length", "max length (tokens)"), ("beta", "DPO β"), ("seed", "seed"), ("device", "device") })
        {
            if (config?.Option(option) is { } v) rows.Add([label, v]);
            else if (option == "max_length" && config?.Options is { } o && o.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object
                     && d.TryGetProperty("max_length", out var ml)) rows.Add([label, ml.GetRawText()]);
        }
        blocks.Add(new ReportTable(["what", "value"], rows));

        var data = new List<IReadOnlyList<string>>();
        foreach (var d in config?.Data ?? [])
        {
            var flag = d.Role switch { "training" => "train", "validation" => "valid", _ => d.Role };
            data.Add([d.Role, config!.Argument(flag) ?? "(in memory)", Number(d.Rows, "F0"), d.Columns, d.Sha256.Length > 16 ? d.Sha256[..16] + "…" : d.Sha256]);
        }
        if (config?.Argument("test") is { } test) data.Add(["test", test, Number(m.Number("test_rows"), "F0"), "", ""]);
        if (data.Count > 0)
        {
            blocks.Add(new ReportParagraph("The data sets. The SHA-256 is over the values of the columns read, row by row, so the same rows give the same hash whatever file they came from."));
            blocks.Add(new ReportTable(["set", "file", "rows", "columns", "SHA-256"], data));
        }

        var files = new List<IReadOnlyList<string>>();
        foreach (var (key, label) in new[] { ("model_dir", "saved model"), ("adapter_dir", "saved adapter"), ("onnx_model", "ONNX model") })
        {
            if (m.Text(key) is { Length: > 0 } value) files.Add([label, value]);
        }
        if (files.Count > 0) blocks.Add(new ReportTable(["output", "where"], files));
        return new ReportSection("What was trained on what", blocks);
    }

    private static string? ModelText(RunConfig? config)
    {
        if (config?.Model is not { } model) return null;
        var source = model.TryGetProperty("source", out var s) ? s.GetString() : null;
        var bundled = model.TryGetProperty("bundled", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString() : null;
        var folder = model.TryGetProperty("folder", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        var text = source ?? bundled ?? folder;
        if (bundled is not null) text += " (bundled)";
        if (folder is not null && folder != source) text += $" from {folder}";
        if (model.TryGetProperty("adapter", out var a) && a.ValueKind == JsonValueKind.String) text += $", starting adapter {a.GetString()}";
        return text;
    }

    private static string? Method(RunConfig? config)
    {
        if (config?.Options is not { } o) return null;
        if (!o.TryGetProperty("lora", out var lora) || lora.ValueKind != JsonValueKind.Object) return "full fine-tuning (every weight trained)";
        string? Get(string name) => lora.TryGetProperty(name, out var v) && v.ValueKind is not JsonValueKind.Null ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()) : null;
        var quantized = Get("quantize_base") == "true" ? "QLoRA (NF4 base)" : "LoRA";
        var targets = lora.TryGetProperty("target_modules", out var t) && t.ValueKind == JsonValueKind.Array ? ", targets " + string.Join(", ", t.EnumerateArray().Select(x => x.ToString())) : "";
        return $"{quantized}: rank {Get("rank")}, alpha {Get("alpha")}, dropout {Get("dropout") ?? "0"}{targets}";
    }
}
