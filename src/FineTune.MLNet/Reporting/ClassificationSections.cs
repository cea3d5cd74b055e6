using System.Text.Json;
using static FineTune.MLNet.Reporting.ReportFormat;

namespace FineTune.MLNet.Reporting;

/// <summary>A classifier's report sections: fine-tuned vs zero-shot on the test set, per-class F1, the confusion matrix.</summary>
public static class ClassificationSections
{
    /// <summary>The sections <paramref name="m"/> has data for.</summary>
    public static IEnumerable<ReportSection> Build(RunMetrics m)
    {
        if (m.Number("accuracy") is null) yield break;   // an API run: no test evaluation (metrics.json) to show
        var labels = m.Texts("labels");
        yield return Comparison(m);
        if (labels.Count > 0 && m.Root.TryGetProperty("per_class_f1", out var f1) && f1.ValueKind == JsonValueKind.Object) yield return PerClass(labels, f1);
        if (labels.Count > 0 && m.Root.TryGetProperty("confusion_matrix", out var cm) && cm.ValueKind == JsonValueKind.Array) yield return Confusion(labels, cm);
    }

    private static ReportSection Comparison(RunMetrics m)
    {
        var testRows = m.Number("test_rows") is { } n ? $"{n:F0} " : "";
        // Sentence-pair runs have no zero-shot baseline (label descriptions do not apply to pairs): the majority class instead.
        bool majority = m.Number("zero_shot_accuracy") is null && m.Number("majority_class_accuracy") is not null;
        string key = majority ? "majority_class" : "zero_shot", name = majority ? "majority class" : "zero-shot";
        var explanation = majority
            ? "The baseline always predicts the most frequent training label (a sentence-pair run: the zero-shot baseline's label descriptions do not apply to pairs). "
            : "The zero-shot baseline is the same pretrained encoder without fine-tuning: it labels a text by the cosine similarity of its embedding to each label name's embedding. ";
        var blocks = new List<ReportBlock>
        {
            new ReportParagraph($"Scores on the {testRows}test rows, which training never saw. " + explanation
                                + "The gap between the two columns is what fine-tuning bought."),
            new ReportTable(["metric", majority ? "majority class" : "zero-shot (untuned)", "fine-tuned", "change"],
            [
                ["accuracy", Percent(m.Number($"{key}_accuracy")), Percent(m.Number("accuracy")), ChangePoints(m.Number($"{key}_accuracy"), m.Number("accuracy"))],
                ["macro-F1", Number(m.Number($"{key}_macro_f1")), Number(m.Number("macro_f1")), Change(m.Number($"{key}_macro_f1"), m.Number("macro_f1"))],
            ]),
        };
        if (m.Number("log_loss") is { } logLoss)
            blocks.Add(new ReportParagraph($"ML.NET's evaluator on the same predictions: micro-accuracy {Percent(m.Number("mlnet_micro_accuracy"))}, "
                                           + $"macro-accuracy {Percent(m.Number("mlnet_macro_accuracy"))}, log-loss {Number(logLoss)}."));
        if (m.Number("accuracy") is { } a && m.Number($"{key}_accuracy") is { } z && m.Number("macro_f1") is { } f && m.Number($"{key}_macro_f1") is { } zf)
        {
            blocks.Add(new ReportFigure($"{key.Replace('_', '-')}-vs-fine-tuned.png", $"{char.ToUpperInvariant(name[0])}{name[1..]} vs fine-tuned on the test set",
                ReportCharts.Bars($"Test set: {name} vs fine-tuned", "score", ["accuracy", "macro-F1"],
                    [new BarGroup(name, [z, zf]), new BarGroup("fine-tuned", [a, f])])));
        }
        return new ReportSection($"Result: fine-tuned vs {name}", blocks);
    }

    private static ReportSection PerClass(IReadOnlyList<string> labels, JsonElement f1)
    {
        var values = labels.Select(l => f1.TryGetProperty(l, out var v) ? RunMetrics.NumberOf(v) : null).ToList();
        var blocks = new List<ReportBlock>
        {
            new ReportParagraph("F1 of each class on the test set (the harmonic mean of its precision and recall). Macro-F1 is their plain mean, so a weak rare class pulls it down."),
            new ReportTable(["class", "F1"], labels.Select((l, i) => (IReadOnlyList<string>)[l, Number(values[i])]).ToList()),
        };
        if (values.All(v => v is not null))
            blocks.Add(new ReportFigure("per-class-f1.png", "Per-class F1", ReportCharts.Bars("Per-class F1 (test set)", "F1", labels, [new BarGroup("F1", values.Select(v => v!.Value).ToList())])));
        return new ReportSection("Per-class F1", blocks);
    }

    private static ReportSection Confusion(IReadOnlyList<string> labels, JsonElement matrix)
    {
        var rows = new List<IReadOnlyList<string>>();
        var counts = new List<IReadOnlyList<double>>();
        var i = 0;
        foreach (var row in matrix.EnumerateArray())
        {
            var cells = row.ValueKind == JsonValueKind.Array ? row.EnumerateArray().ToList() : [];
            rows.Add([i < labels.Count ? labels[i] : $"row {i}", .. cells.Select(c => c.ToString())]);
            counts.Add(cells.Select(c => RunMetrics.NumberOf(c) ?? double.NaN).ToList());
            i++;
        }
        var blocks = new List<ReportBlock>
        {
            new ReportParagraph("Test rows by true class (rows) and predicted class (columns). The diagonal holds the correct predictions; an off-diagonal cell says which classes the model mixes up."),
            new ReportTable(["true \\ predicted", .. labels], rows),
        };
        if (counts.Count == labels.Count && counts.All(r => r.Count == labels.Count && r.All(double.IsFinite)))
            blocks.Add(new ReportFigure("confusion-matrix.png", "Confusion matrix (shade: share of the true class)", ReportCharts.Confusion("Confusion matrix (test set)", labels, counts)));
        return new ReportSection("Confusion matrix", blocks);
    }
}
