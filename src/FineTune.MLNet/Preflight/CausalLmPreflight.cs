using FineTune.MLNet.Data;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Dpo;
using FineTune.MLNet.Training.Tasks.Sft;

namespace FineTune.MLNet.Preflight;

/// <summary>A table of an SFT or DPO run and its columns (prompt, response; or prompt, chosen, rejected).</summary>
/// <param name="Table">The table (its <see cref="DelimitedTable.Source"/> names it in messages).</param>
/// <param name="Split">"train" or "valid", the prefix of its facts.</param>
public sealed record CausalLmPreflightTable(DelimitedTable Table, string Split);

/// <summary>
/// Preflight of an SFT or DPO run, on the examples training builds: the same <see cref="SftExampleBuilder"/> (and
/// <see cref="DpoExampleBuilder"/>) and the same <see cref="SftCollator"/> the estimators use, so what is checked is what
/// is trained. Errors (naming file and data row): a row the builder refuses, no supervised token, a doubled BOS, a
/// complete example without its EOS supervised, an EOS the collator's padding would hide. Facts: supervised tokens per
/// example, truncation rate, a length histogram, and one rendered example with the supervised tokens marked
/// (<see cref="SupervisedSpans"/>).
/// </summary>
public sealed class CausalLmPreflight
{
    /// <summary>Errors listed one by one before the rest are counted.</summary>
    public const int ListedErrors = 10;

    /// <summary>Share of truncated training examples from which a warning is given.</summary>
    public const double TruncationWarning = 0.05;

    private readonly HfTokenizer _tokenizer;
    private readonly SftExampleBuilder _builder;
    private readonly SftCollator _collator;
    private readonly SftExampleBuilder _untruncated;

    /// <summary>Checks examples as <paramref name="builder"/> (built on <paramref name="tokenizer"/>) makes them.</summary>
    public CausalLmPreflight(HfTokenizer tokenizer, SftExampleBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(builder);
        _tokenizer = tokenizer;
        _builder = builder;
        _collator = SftCollator.ForTokenizer(tokenizer);
        _untruncated = new SftExampleBuilder(tokenizer, builder.Options with { MaxLength = 1 << 20 });   // lengths before truncation
    }

    /// <summary>SFT: every row of the tables as a (prompt, response) example.</summary>
    public PreflightReport Sft(IReadOnlyList<CausalLmPreflightTable> tables, string promptColumn, string responseColumn)
    {
        var report = Start("sft");
        foreach (var t in tables)
        {
            var prompts = t.Table.GetColumn(promptColumn);
            var responses = t.Table.GetColumn(responseColumn);
            var examples = new List<(int Row, SftExample Example)>();
            var errors = new List<string>();
            var fullLengths = new List<int>();
            for (int r = 0; r < t.Table.RowCount; r++)
            {
                string where = $"{t.Table.Source}: data row {r + 1}";
                try
                {
                    var e = _builder.FromPair(prompts[r], responses[r]);
                    fullLengths.Add(_untruncated.FromPair(prompts[r], responses[r]).Length);
                    if (e.SupervisedTokenCount == 0)
                        errors.Add($"{where}: no supervised token (column '{responseColumn}' is empty, or --max-length {_builder.Options.MaxLength} cut the response away); nothing to learn.");
                    CheckSpecialTokens(e, where, errors);
                    examples.Add((r + 1, e));
                }
                catch (SftDataException e)
                {
                    errors.Add($"{where}: {e.Message}");
                }
            }
            Finish(report, t, examples.Select(x => x.Example).ToList(), fullLengths, errors);
            CheckPadding(examples, t.Table.Source, report);
            if (t.Split == "train" && examples.Count > 0)
                report.Fact("rendered_example", $"data row {examples[0].Row}: " + SupervisedSpans.Render(examples[0].Example, _tokenizer));
        }
        return report;
    }

    /// <summary>DPO: every row of the tables as a (prompt, chosen, rejected) pair; both sides are checked.</summary>
    public PreflightReport Dpo(IReadOnlyList<CausalLmPreflightTable> tables, string promptColumn, string chosenColumn, string rejectedColumn)
    {
        var report = Start("dpo");
        var dpo = new DpoExampleBuilder(_builder);
        foreach (var t in tables)
        {
            var prompts = t.Table.GetColumn(promptColumn);
            var chosen = t.Table.GetColumn(chosenColumn);
            var rejected = t.Table.GetColumn(rejectedColumn);
            var sides = new List<(int Row, SftExample Example)>();
            var errors = new List<string>();
            var fullLengths = new List<int>();
            DpoExample? first = null;
            int firstRow = 0;
            for (int r = 0; r < t.Table.RowCount; r++)
            {
                string where = $"{t.Table.Source}: data row {r + 1}";
                try
                {
                    var pair = dpo.FromTriple(prompts[r], chosen[r], rejected[r]);
                    CheckSpecialTokens(pair.Chosen, $"{where} (column '{chosenColumn}')", errors);
                    CheckSpecialTokens(pair.Rejected, $"{where} (column '{rejectedColumn}')", errors);
                    foreach (var (side, column) in new[] { (pair.Chosen, chosenColumn), (pair.Rejected, rejectedColumn) })
                    {
                        if (side.SupervisedTokenCount == 0)
                            errors.Add($"{where} (column '{column}'): no supervised token (the completion is empty, or --max-length {_builder.Options.MaxLength} cut it away); its log-probability is 0 and the pair teaches nothing.");
                    }
                    fullLengths.Add(_untruncated.FromPair(prompts[r], chosen[r]).Length);
                    fullLengths.Add(_untruncated.FromPair(prompts[r], rejected[r]).Length);
                    sides.Add((r + 1, pair.Chosen));
                    sides.Add((r + 1, pair.Rejected));
                    if (first is null) (first, firstRow) = (pair, r + 1);
                }
                catch (SftDataException e)
                {
                    errors.Add($"{where} (columns '{chosenColumn}' / '{rejectedColumn}'): {e.Message}");
                }
            }
            Finish(report, t, sides.Select(x => x.Example).ToList(), fullLengths, errors);
            CheckPadding(sides, t.Table.Source, report);
            if (t.Split == "train" && first is not null)
            {
                report.Fact("rendered_example", $"data row {firstRow}, chosen: " + SupervisedSpans.Render(first.Chosen, _tokenizer));
                report.Fact("rendered_example_rejected", $"data row {firstRow}, rejected: " + SupervisedSpans.Render(first.Rejected, _tokenizer));
            }
        }
        return report;
    }

    private PreflightReport Start(string task)
    {
        var report = new PreflightReport(task);
        report.Fact("max_length", _builder.Options.MaxLength);
        report.Fact("uses_chat_template", _builder.UsesChatTemplate);
        report.Fact("bos_id", _tokenizer.BosId);
        report.Fact("eos_id", _tokenizer.EosId);
        report.Fact("pad_id", _collator.PadId);
        report.Fact("pad_is_eos", _collator.PadId == _tokenizer.EosId);
        return report;
    }

    /// <summary>One BOS at most; a complete example ends its supervision with EOS when the builder appends one.</summary>
    private void CheckSpecialTokens(SftExample e, string where, List<string> errors)
    {
        if (_tokenizer.BosId is int bos && e.Length >= 2 && e.InputIds[0] == bos && e.InputIds[1] == bos)
            errors.Add($"{where}: the sequence starts with two BOS tokens (the chat template writes one and the tokenizer adds another).");
        if (_builder.Options.AppendEos && _tokenizer.EosId is int eos && !e.Truncated && e.SupervisedTokenCount > 0 && !e.Labels.Contains(eos))
            errors.Add($"{where}: EOS (id {eos}) is not among the supervised tokens, so the model does not learn to stop.");
    }

    /// <summary>Collates the shortest example with the longest, as a training batch pads it, and checks every supervised label survives padding.</summary>
    private void CheckPadding(List<(int Row, SftExample Example)> examples, string source, PreflightReport report)
    {
        if (examples.Count == 0) return;
        var shortest = examples.MinBy(x => x.Example.Length);
        var longest = examples.MaxBy(x => x.Example.Length);
        var batch = _collator.Collate([shortest.Example, longest.Example]);
        long kept = 0;
        for (int t = 1; t < shortest.Example.Length; t++)
        {
            if (shortest.Example.Labels[t] == CausalLmLoss.IgnoreIndex) continue;
            if (batch.Labels[t] == shortest.Example.Labels[t] && batch.AttentionMask[t] == 1) kept++;
        }
        int expected = shortest.Example.Labels.Skip(1).Count(l => l != CausalLmLoss.IgnoreIndex);
        if (kept != expected)
            report.Error($"{source}: data row {shortest.Row}: padding to {batch.SequenceLength} tokens hides {expected - kept} of its {expected} supervised token(s) " +
                         $"(pad id {_collator.PadId}); the EOS would be masked as padding.");
    }

    /// <param name="fullLengths">Each example's length before truncation (the histogram shows what is cut).</param>
    private void Finish(PreflightReport report, CausalLmPreflightTable t, List<SftExample> examples, List<int> fullLengths, List<string> errors)
    {
        foreach (var e in errors.Take(ListedErrors)) report.Error(e);
        if (errors.Count > ListedErrors) report.Error($"{t.Table.Source}: and {errors.Count - ListedErrors} more error(s) like the above.");
        string p = t.Split;
        report.Fact($"{p}_rows", t.Table.RowCount);
        report.Fact($"{p}_sequences", examples.Count);
        if (examples.Count == 0) return;
        var supervised = examples.Select(e => e.SupervisedTokenCount).ToArray();
        var lengths = examples.Select(e => e.Length).ToArray();
        int truncated = examples.Count(e => e.Truncated);
        double rate = (double)truncated / examples.Count;
        report.Fact($"{p}_tokens", lengths.Sum(l => (long)l));
        report.Fact($"{p}_tokens_max", fullLengths.Max());
        report.Fact($"{p}_supervised_tokens", supervised.Sum(s => (long)s));
        report.Fact($"{p}_supervised_tokens_min", supervised.Min());
        report.Fact($"{p}_supervised_tokens_mean", Math.Round(supervised.Average(), 2));
        report.Fact($"{p}_supervised_tokens_max", supervised.Max());
        report.Fact($"{p}_truncated", truncated);
        report.Fact($"{p}_truncation_rate", Math.Round(rate, 4));
        if (p == "train") report.Fact("train_length_histogram", LengthHistogram.Bins(fullLengths, _builder.Options.MaxLength));
        if (rate >= TruncationWarning)
            report.Warn($"{t.Table.Source}: {truncated} of {examples.Count} sequence(s) ({rate:P1}) are longer than --max-length {_builder.Options.MaxLength} tokens and are truncated " +
                        "(the prompt is cut from its left first; a response cut short loses its EOS).");
    }
}
