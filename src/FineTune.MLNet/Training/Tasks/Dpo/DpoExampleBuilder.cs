using FineTune.MLNet.Data;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;

namespace FineTune.MLNet.Training.Tasks.Dpo;

/// <summary>
/// Turns (prompt, chosen, rejected) texts into <see cref="DpoExample"/>s with the SFT builder, so the prompt is
/// formatted exactly as in SFT training and generation (<see cref="SftExampleBuilder.PromptIds"/>: system prompt, chat
/// template with the generation prompt, BOS) and each completion gets the EOS SFT appends.
/// </summary>
public sealed class DpoExampleBuilder
{
    private readonly SftExampleBuilder _sft;

    /// <summary>Creates a builder formatting like <paramref name="sft"/>.</summary>
    public DpoExampleBuilder(SftExampleBuilder sft)
    {
        ArgumentNullException.ThrowIfNull(sft);
        _sft = sft;
    }

    /// <summary>One pair.</summary>
    /// <exception cref="SftDataException">A text is null, or a completion has no token left (empty without EOS, or cut by MaxLength).</exception>
    public DpoExample FromTriple(string prompt, string chosen, string rejected) => FromTriple(prompt, chosen, rejected, "example");

    /// <summary>All pairs of three String columns, in row order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or not text; the message names it.</exception>
    /// <exception cref="SftDataException">A row is invalid (named by its index) or there are no rows.</exception>
    public IReadOnlyList<DpoExample> BuildFromDataView(IDataView data, string promptColumn, string chosenColumn, string rejectedColumn)
    {
        var rows = TextColumns.Read(data, promptColumn, chosenColumn, rejectedColumn);
        if (rows.Count == 0) throw new SftDataException("The preference data set has no rows.");
        return rows.Select((r, i) => FromTriple(r[0], r[1], r[2], $"row {i} (columns '{chosenColumn}' / '{rejectedColumn}')")).ToList();
    }

    private DpoExample FromTriple(string prompt, string chosen, string rejected, string where)
    {
        if (chosen is null) throw new SftDataException($"{where}: the chosen completion is null.");
        if (rejected is null) throw new SftDataException($"{where}: the rejected completion is null.");
        var c = _sft.FromPair(prompt, chosen);
        var r = _sft.FromPair(prompt, rejected);
        if (c.SupervisedTokenCount == 0 || r.SupervisedTokenCount == 0)
            throw new SftDataException($"{where}: the {(c.SupervisedTokenCount == 0 ? "chosen" : "rejected")} completion has no token to score " +
                "(empty with AppendEos off, or cut away by MaxLength).");
        return new DpoExample(c, r);
    }
}
