using System.Text.Json;
using static FineTune.MLNet.Reporting.ReportFormat;

namespace FineTune.MLNet.Reporting;

/// <summary>The report sections of a decoder LLM run: SFT (base vs tuned, perplexities) and DPO (TRL's rewards and log-probs).</summary>
public static class LanguageModelSections
{
    /// <summary>SFT: validation perplexity, test generation scores and general-text perplexity, base model vs tuned.</summary>
    public static IEnumerable<ReportSection> BuildSft(RunMetrics m)
    {
        var blocks = new List<ReportBlock>();
        var rows = new List<IReadOnlyList<string>>();
        if (m.Number("validation_perplexity") is { } ppl)
            rows.Add(["validation perplexity (lower is better)", Number(m.Number("base_validation_perplexity")), Number(ppl), Change(m.Number("base_validation_perplexity"), ppl)]);
        foreach (var (key, label) in new[] { ("exact_match", "test exact match"), ("token_f1", "test token F1"), ("rouge_l", "test ROUGE-L") })
        {
            if (m.Number(key) is { } v) rows.Add([label, Number(m.Number("base_" + key)), Number(v), Change(m.Number("base_" + key), v)]);
        }
        if (m.Number("general_perplexity_after") is { } after)
            rows.Add(["general-text perplexity (forgetting check)", Number(m.Number("general_perplexity_before")), Number(after), Change(m.Number("general_perplexity_before"), after)]);
        if (rows.Count == 0) yield break;
        blocks.Add(new ReportParagraph("The base model (adapters off) against the fine-tuned one. Validation perplexity is exp of the mean "
                                       + "next-token loss on the validation responses. Test scores compare greedy generated answers with the references "
                                       + "(exact match after SQuAD normalisation, token F1, ROUGE-L). General-text perplexity on unrelated text shows "
                                       + "forgetting: a large rise means the tuning damaged what the model knew."));
        blocks.Add(new ReportTable(["metric", "base model", "fine-tuned", "change"], rows));
        var scores = new[] { ("exact_match", "exact match"), ("token_f1", "token F1"), ("rouge_l", "ROUGE-L") }
            .Where(k => m.Number(k.Item1) is not null && m.Number("base_" + k.Item1) is not null).ToList();
        if (scores.Count > 0)
        {
            blocks.Add(new ReportFigure("base-vs-fine-tuned.png", "Test scores: base vs fine-tuned", ReportCharts.Bars("Test set: base vs fine-tuned", "score",
                scores.Select(s => s.Item2).ToList(),
                [new BarGroup("base", scores.Select(s => m.Number("base_" + s.Item1)!.Value).ToList()), new BarGroup("fine-tuned", scores.Select(s => m.Number(s.Item1)!.Value).ToList())])));
        }
        var perplexities = new List<(string Name, double Before, double After)>();
        if (m.Number("base_validation_perplexity") is { } vb && m.Number("validation_perplexity") is { } va) perplexities.Add(("validation", vb, va));
        if (m.Number("general_perplexity_before") is { } gb && m.Number("general_perplexity_after") is { } ga) perplexities.Add(("general text", gb, ga));
        if (perplexities.Count > 0)
        {
            blocks.Add(new ReportFigure("perplexity.png", "Perplexity before and after", ReportCharts.Bars("Perplexity: base vs fine-tuned (lower is better)", "perplexity",
                perplexities.Select(p => p.Name).ToList(), [new BarGroup("base", perplexities.Select(p => p.Before).ToList()), new BarGroup("fine-tuned", perplexities.Select(p => p.After).ToList())], "F2")));
        }
        yield return new ReportSection("Result: base vs fine-tuned", blocks);
    }

    /// <summary>DPO: the final step's and validation's TRL metrics, reward margins and accuracies per step, chosen vs rejected rewards.</summary>
    /// <param name="m">The CLI's metrics.json (empty for an API run).</param>
    /// <param name="log">metrics.jsonl.</param>
    /// <param name="config">config.json, for β and label smoothing when metrics.json does not hold them.</param>
    public static IEnumerable<ReportSection> BuildDpo(RunMetrics m, RunMetricsLog log, RunConfig? config = null)
    {
        string[] names = ["loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected"];
        var rows = names.Where(n => m.Has(n) || m.Has("eval_" + n))
            .Select(n => (IReadOnlyList<string>)[n, Number(m.Number(n)), Number(m.Number("eval_" + n))]).ToList();
        var blocks = new List<ReportBlock>
        {
            new ReportParagraph($"DPO (β = {Number(m.Number("beta") ?? OptionNumber(config, "beta"), "G4")}, label smoothing "
                                + $"{Number(m.Number("label_smoothing") ?? OptionNumber(config, "label_smoothing"), "G4")}) raises the "
                                + "likelihood of the chosen completion over the rejected one, relative to the reference model (the base with adapters off). "
                                + "A reward is β times the log-probability ratio of policy to reference; rewards/margins is chosen minus rejected "
                                + "(above zero: the policy prefers the chosen answer more than the reference did), rewards/accuracies the share of pairs "
                                + "with a positive margin. At the start every reward is 0 and the loss is ln 2 = 0.6931."),
        };
        if (rows.Count > 0) blocks.Add(new ReportTable(["metric (TRL name)", "last training step", "last validation"], rows));
        // Per step from metrics.jsonl (every run folder has it); the CLI's metrics.json history as a fallback.
        var history = log.Train.Count > 0 ? log.Train : m.Records("history");
        var validation = log.Eval.Count > 0 ? log.Eval : m.Records("validation_history");
        if (rows.Count == 0 && history.Count > 0)
        {
            rows = names.Select(n => (IReadOnlyList<string>)[n, Number(CurveSections.Last(history, n)), Number(CurveSections.Last(validation, n))]).ToList();
            blocks.Add(new ReportTable(["metric (TRL name)", "last training step", "last validation"], rows));
        }
        if (history.Any(h => RunMetrics.NumberOf(h, "rewards/margins") is not null))
        {
            var margins = new List<ChartSeries> { RunReportBuilder.Series("rewards/margins (train)", history, "step", "rewards/margins"), RunReportBuilder.Series("rewards/accuracies (train)", history, "step", "rewards/accuracies") };
            if (validation.Any(v => RunMetrics.NumberOf(v, "rewards/margins") is not null))
            {
                margins.Add(RunReportBuilder.Series("rewards/margins (validation)", validation, "step", "rewards/margins"));
                margins.Add(RunReportBuilder.Series("rewards/accuracies (validation)", validation, "step", "rewards/accuracies"));
            }
            blocks.Add(new ReportFigure("reward-margins.png", "Reward margins and accuracies per step", ReportCharts.Lines("Reward margins and accuracies", "optimizer step", "value", margins)));
            blocks.Add(new ReportFigure("rewards-chosen-rejected.png", "Chosen and rejected rewards per step", ReportCharts.Lines("Chosen vs rejected reward", "optimizer step", "reward",
                [RunReportBuilder.Series("rewards/chosen", history, "step", "rewards/chosen"), RunReportBuilder.Series("rewards/rejected", history, "step", "rewards/rejected")])));
        }
        yield return new ReportSection("Result: preference rewards", blocks);
    }

    private static double? OptionNumber(RunConfig? config, string name) =>
        double.TryParse(config?.Option(name), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
}
