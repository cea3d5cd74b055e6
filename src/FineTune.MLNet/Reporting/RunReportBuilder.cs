using System.Text.Json;
using static FineTune.MLNet.Reporting.ReportFormat;

namespace FineTune.MLNet.Reporting;

/// <summary>
/// Builds a <see cref="ReportDocument"/> from a run folder's files: what was trained on what, the task's results against
/// its baseline, training and validation curves, cost (time, tokens/s, peak memory), the resolved config and the
/// preflight findings. Sections a run has no data for are left out.
/// </summary>
public static class RunReportBuilder
{
    /// <summary>The task of a run: <c>classify</c>, <c>sft</c> or <c>dpo</c>, from <c>metrics.json</c>'s <c>task</c>, else the preflight's, else its keys.</summary>
    public static string TaskOf(RunFolderInputs inputs)
    {
        var m = inputs.Metrics;
        if (m.Text("task") is { Length: > 0 } task) return task;
        if (inputs.Preflight is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("task", out var t) && t.ValueKind == JsonValueKind.String) return t.GetString()!;
        if (m.Has("confusion_matrix")) return "classify";
        return m.Has("rewards/margins") || m.Has("beta") ? "dpo" : "sft";
    }

    /// <summary>The whole report of <paramref name="inputs"/>.</summary>
    public static ReportDocument Build(RunFolderInputs inputs)
    {
        var m = inputs.Metrics;
        var task = TaskOf(inputs);
        var sections = new List<ReportSection?> { Overview(m, task) };
        sections.AddRange(task switch
        {
            "classify" => ClassificationSections.Build(m),
            "dpo" => LanguageModelSections.BuildDpo(m),
            _ => LanguageModelSections.BuildSft(m),
        });
        sections.Add(TrainingCurves(m, task));
        sections.Add(Cost(m));
        sections.Add(Preflight(inputs.Preflight));
        sections.Add(Config(inputs.Config));
        sections.Add(AllMetrics(m));
        var title = $"{TaskTitle(task)} run report";
        var lead = $"Run folder: {inputs.Directory}. Written by {FineTuneInfo.Name} from metrics.json"
                   + (inputs.Config is null ? "" : ", config.json") + (inputs.Preflight is null ? "" : ", preflight.json") + ".";
        return new ReportDocument(title, lead, sections.OfType<ReportSection>().ToList());
    }

    private static string TaskTitle(string task) => task switch
    {
        "classify" => "Text classifier fine-tuning",
        "sft" => "Supervised fine-tuning (LoRA)",
        "dpo" => "DPO preference alignment",
        _ => task,
    };

    private static ReportSection Overview(RunMetrics m, string task)
    {
        var what = task switch
        {
            "classify" => "A pretrained encoder was fine-tuned to classify texts into labels",
            "dpo" => "A decoder language model was aligned to preferences with DPO (LoRA adapters; the frozen model is the reference)",
            _ => "A decoder language model was fine-tuned on prompt/response pairs with LoRA adapters",
        };
        var model = m.Text("model") ?? "(model not recorded)";
        var data = m.Text("train_file") is { } f ? $"{Path.GetFileName(f)}" : "the training file";
        var rows = m.Number("train_rows") is { } r ? $" ({r:F0} rows)" : "";
        var text = $"{what}. Model: {model}. Training data: {data}{rows}. It ran {Number(m.Number("epochs_run"), "F0")} epoch(s)"
                   + (m.Number("optimizer_steps") is { } s ? $", {s:F0} optimizer steps" : "") + $" in {Duration(m.Number("train_seconds"))}.";
        var blocks = new List<ReportBlock> { new ReportParagraph(text) };
        var files = new List<IReadOnlyList<string>>();
        foreach (var (key, label) in new[] { ("model", "base model"), ("train_file", "training data"), ("model_dir", "saved model"), ("adapter_dir", "saved adapter"), ("onnx_model", "ONNX model") })
        {
            if (m.Text(key) is { Length: > 0 } value) files.Add([label, value]);
        }
        if (files.Count > 0) blocks.Add(new ReportTable(["what", "where"], files));
        return new ReportSection("What was trained on what", blocks);
    }

    private static ReportSection? TrainingCurves(RunMetrics m, string task)
    {
        var blocks = new List<ReportBlock>();
        var steps = m.Records("steps");
        var validations = m.Records("validations");
        var history = m.Records("history");
        var loss = new List<ChartSeries>();
        if (steps.Count > 0)
        {
            loss.Add(Series("training loss (per step)", steps, "step", "loss"));
        }
        else if (task == "dpo" && history.Count > 0 && history[0].TryGetProperty("step", out _))
        {
            loss.Add(Series("training loss (per step)", history, "step", "loss"));
        }
        if (validations.Count > 0 && validations.Any(v => RunMetrics.NumberOf(v, "validation_loss") is not null))
            loss.Add(Series("validation loss (per epoch)", validations, "step", "validation_loss"));
        if (loss.Count > 0)
        {
            blocks.Add(new ReportParagraph("The training loss of each optimizer step (mean over its batch) and the validation loss after each epoch. "
                                           + "Both falling means the model learns; a validation loss that rises while the training loss falls means over-fitting."));
            blocks.Add(new ReportFigure("loss.png", "Training and validation loss", ReportCharts.Lines("Loss", "optimizer step", "loss", loss)));
        }
        else if (history.Count > 0 && history.Any(h => RunMetrics.NumberOf(h, "train_loss") is not null))
        {
            var perEpoch = new List<ChartSeries> { Series("training loss", history, "epoch", "train_loss", xPlusOne: true) };
            if (history.Any(h => RunMetrics.NumberOf(h, "validation_loss") is not null)) perEpoch.Add(Series("validation loss", history, "epoch", "validation_loss", xPlusOne: true));
            blocks.Add(new ReportParagraph("The mean training loss of each epoch and the validation loss after it."));
            blocks.Add(new ReportFigure("loss.png", "Loss per epoch", ReportCharts.Lines("Loss per epoch", "epoch", "loss", perEpoch)));
        }
        if (steps.Count > 0)
        {
            blocks.Add(new ReportParagraph("The learning rate of each step: linear warmup, then decay to zero at the last step."));
            blocks.Add(new ReportFigure("learning-rate.png", "Learning rate", ReportCharts.Lines("Learning rate", "optimizer step", "learning rate", [Series("learning rate", steps, "step", "learning_rate")])));
        }
        if (history.Count > 0 && task != "dpo")
        {
            var hasAccuracy = history.Any(h => RunMetrics.NumberOf(h, "validation_accuracy") is not null);
            var header = hasAccuracy ? new[] { "epoch", "train loss", "validation loss", "validation accuracy", "validation macro-F1" } : ["epoch", "train loss", "validation loss"];
            var rows = history.Select(h => (IReadOnlyList<string>)(hasAccuracy
                ? [EpochLabel(h), Number(RunMetrics.NumberOf(h, "train_loss")), Number(RunMetrics.NumberOf(h, "validation_loss")),
                   Percent(RunMetrics.NumberOf(h, "validation_accuracy")), Number(RunMetrics.NumberOf(h, "validation_macro_f1"))]
                : [EpochLabel(h), Number(RunMetrics.NumberOf(h, "train_loss")), Number(RunMetrics.NumberOf(h, "validation_loss"))])).ToList();
            blocks.Add(new ReportParagraph("Each epoch's mean training loss and its validation scores:"));
            blocks.Add(new ReportTable(header, rows));
            if (hasAccuracy)
            {
                blocks.Add(new ReportFigure("validation-scores.png", "Validation accuracy and macro-F1 per epoch", ReportCharts.Lines("Validation scores", "epoch", "score",
                    [Series("accuracy", history, "epoch", "validation_accuracy", xPlusOne: true), Series("macro-F1", history, "epoch", "validation_macro_f1", xPlusOne: true)])));
            }
        }
        return blocks.Count == 0 ? null : new ReportSection("Training and validation curves", blocks);
    }

    private static string EpochLabel(JsonElement h) => Number(RunMetrics.NumberOf(h, "epoch") + 1, "F0");

    private static ReportSection? Cost(RunMetrics m)
    {
        var rows = new List<IReadOnlyList<string>>();
        if (m.Number("train_seconds") is { } s) rows.Add(["training time", Duration(s)]);
        if (m.Number("train_tokens_per_second") is { } t) rows.Add(["throughput", $"{t:F0} tokens/s (non-padding tokens)"]);
        if (m.Number("peak_rss_bytes") is { } b) rows.Add(["peak memory (RSS)", Bytes(b)]);
        if (m.Number("optimizer_steps") is { } steps) rows.Add(["optimizer steps", $"{steps:F0}"]);
        if (m.Number("epochs_run") is { } e) rows.Add(["epochs run", $"{e:F0}"]);
        if (rows.Count == 0) return null;
        return new ReportSection("Cost",
        [
            new ReportParagraph("What the run took on this machine. Peak memory is the process's resident high-water mark (model, optimizer state, activations and the runtime)."),
            new ReportTable(["measure", "value"], rows),
        ]);
    }

    private static ReportSection? Preflight(JsonElement? preflight)
    {
        if (preflight is not { ValueKind: JsonValueKind.Object } p) return null;
        var blocks = new List<ReportBlock> { new ReportParagraph("The checks run on the data before training (preflight).") };
        foreach (var (key, label) in new[] { ("errors", "Errors"), ("warnings", "Warnings") })
        {
            var items = p.TryGetProperty(key, out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().Select(e => e.ToString()).ToList() : [];
            blocks.Add(items.Count == 0 ? new ReportParagraph($"{label}: none.") : new ReportTable([label.ToLowerInvariant()], items.Select(i => (IReadOnlyList<string>)[i]).ToList()));
        }
        if (p.TryGetProperty("facts", out var facts) && facts.ValueKind == JsonValueKind.Object)
            blocks.Add(new ReportTable(["fact", "value"], ConfigTable.Rows(facts)));
        return new ReportSection("Preflight", blocks);
    }

    private static ReportSection? Config(JsonElement? config) => config is not { } c ? null : new ReportSection("Resolved configuration",
    [
        new ReportParagraph("Every option of the run after defaults were applied (config.json); rerunning with it repeats the run."),
        new ReportTable(["key", "value"], ConfigTable.Rows(c)),
    ]);

    private static ReportSection AllMetrics(RunMetrics m)
    {
        var rows = m.Root.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number)
            .Select(p => (IReadOnlyList<string>)[p.Name, Number(p.Value.GetDouble(), "G6")]).ToList();
        return new ReportSection("All scalar metrics", [new ReportParagraph("Every number of metrics.json, as written."), new ReportTable(["metric", "value"], rows)]);
    }

    /// <summary>A line of <paramref name="records"/>: x and y by field name, records without a finite y left out.</summary>
    internal static ChartSeries Series(string name, IReadOnlyList<JsonElement> records, string x, string y, bool xPlusOne = false)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        foreach (var r in records)
        {
            if (RunMetrics.NumberOf(r, x) is { } xv && RunMetrics.NumberOf(r, y) is { } yv && double.IsFinite(yv))
            {
                xs.Add(xPlusOne ? xv + 1 : xv);
                ys.Add(yv);
            }
        }
        return new ChartSeries(name, xs, ys);
    }
}
