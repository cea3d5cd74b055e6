using FineTune.MLNet.Data;
using FineTune.MLNet.Preflight;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// The training table of <c>finetune plan</c> with each row's length in tokens as training sees it (truncated to the
/// maximum length; DPO: the longer of chosen and rejected, and both counted for the epoch's tokens), tokenized by the
/// same tokenizer and builder as training.
/// </summary>
internal sealed record PlanData(string Task, DelimitedTable Train, string[] Columns, int MaxLength, int[] Lengths, long[] Tokens)
{
    public static PlanData Read(string task, DelimitedTable train, string[] columns, int maxLength, string model)
    {
        foreach (var c in columns) _ = train.ColumnIndex(c);
        train.RequireDataRows();
        var cells = columns.Select(train.GetColumn).ToArray();
        int n = train.RowCount;
        int[] lengths = new int[n];
        long[] tokens = new long[n];
        if (task == "classify")
        {
            var tokenizer = ClassifierTokenizers.For(model);
            for (int r = 0; r < n; r++)
            {
                lengths[r] = string.IsNullOrWhiteSpace(cells[0][r]) ? 0 : Math.Min(maxLength, tokenizer.CountTokens(cells[0][r]));
                tokens[r] = lengths[r];
            }
        }
        else
        {
            var builder = new SftExampleBuilder(HfTokenizer.FromFolder(CausalLmArguments.Folder(new DirectoryInfo(model))), new SftDataOptions { MaxLength = maxLength });
            for (int r = 0; r < n; r++)
            {
                var sides = cells.Skip(1).Select(c => builder.FromPair(cells[0][r], c[r]).Length).ToArray();
                lengths[r] = sides.Max();
                tokens[r] = sides.Sum(s => (long)s);
            }
        }
        return new PlanData(task, train, columns, maxLength, lengths, tokens);
    }

    /// <summary>The longest example (tokens), what the peak step pads to.</summary>
    public int Longest => Math.Max(1, Lengths.Max());

    /// <summary>Tokens of one epoch.</summary>
    public long EpochTokens => Tokens.Sum();

    /// <summary>The <paramref name="count"/> longest rows (all when fewer), longest first.</summary>
    public DelimitedTable LongestRows(int count)
    {
        var order = Enumerable.Range(0, Train.RowCount).OrderByDescending(r => Lengths[r]).ThenBy(r => r).Take(count).ToList();
        return Train with { Rows = order.Select(r => Train.Rows[r]).ToList() };
    }

    /// <summary>Tokens of the rows <see cref="LongestRows"/> returns.</summary>
    public long LongestRowsTokens(int count) =>
        Enumerable.Range(0, Train.RowCount).OrderByDescending(r => Lengths[r]).ThenBy(r => r).Take(count).Sum(r => Tokens[r]);
}
