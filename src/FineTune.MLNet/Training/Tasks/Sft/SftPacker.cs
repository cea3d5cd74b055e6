using FineTune.MLNet.Losses;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// Packs short examples end to end into rows of at most <see cref="MaxLength"/> tokens, greedily in input order
/// (torchtune's <c>PackedDataset</c>): an example goes into the current row if it fits, else it starts a new row.
/// </summary>
/// <remarks>
/// Each packed row is an <see cref="SftSequence"/>: position ids restart at 0 for every example, document ids number
/// the examples of the row, and the first label of each example is <see cref="CausalLmLoss.IgnoreIndex"/>, so the
/// last token of one example is never trained to predict the first of the next. The model must attend
/// block-diagonally (<see cref="SftBatch.CreateBlockCausalMask"/>) for the examples not to see each other. Rows are
/// not padded here; <see cref="SftCollator"/> pads a batch.
/// </remarks>
public sealed class SftPacker
{
    /// <summary>Creates a packer for rows of at most <paramref name="maxLength"/> tokens (&gt;= 1).</summary>
    public SftPacker(int maxLength)
    {
        if (maxLength < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must be at least 1.");
        MaxLength = maxLength;
    }

    /// <summary>Largest number of tokens in a packed row.</summary>
    public int MaxLength { get; }

    /// <summary>Packs <paramref name="examples"/>, keeping their order.</summary>
    /// <exception cref="ArgumentException">An example is empty or longer than <see cref="MaxLength"/> (truncate it with
    /// <see cref="SftDataOptions.MaxLength"/> first); the message names its index.</exception>
    public IReadOnlyList<SftSequence> Pack(IReadOnlyList<SftExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var rows = new List<SftSequence>();
        var current = new RowBuilder();
        for (int i = 0; i < examples.Count; i++)
        {
            var example = examples[i];
            if (example.Length == 0) throw new ArgumentException($"examples[{i}] is empty.", nameof(examples));
            if (example.Labels.Length != example.Length)
                throw new ArgumentException($"examples[{i}] has {example.Length} ids but {example.Labels.Length} labels.", nameof(examples));
            if (example.Length > MaxLength)
                throw new ArgumentException($"examples[{i}] has {example.Length} tokens, more than the packing length {MaxLength}; truncate it first (SftDataOptions.MaxLength).", nameof(examples));
            if (current.Length + example.Length > MaxLength)
            {
                rows.Add(current.Build());
                current = new RowBuilder();
            }
            current.Add(example);
        }
        if (current.Length > 0) rows.Add(current.Build());
        return rows;
    }

    private sealed class RowBuilder
    {
        private readonly List<int> _ids = [];
        private readonly List<int> _labels = [];
        private readonly List<int> _positions = [];
        private readonly List<int> _documents = [];
        private int _documentCount;

        public int Length => _ids.Count;

        public void Add(SftExample example)
        {
            _ids.AddRange(example.InputIds);
            _labels.Add(CausalLmLoss.IgnoreIndex);
            _labels.AddRange(example.Labels.Skip(1));
            _positions.AddRange(Enumerable.Range(0, example.Length));
            _documents.AddRange(Enumerable.Repeat(_documentCount++, example.Length));
        }

        public SftSequence Build() => new(_ids.ToArray(), _labels.ToArray(), _positions.ToArray(), _documents.ToArray());
    }
}
