using FineTune.MLNet.Losses;
using FineTune.MLNet.Tokenization.HuggingFace;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// Pads a batch of sequences on the right (training) to the longest one: ids with <see cref="PadId"/>, labels with
/// <see cref="CausalLmLoss.IgnoreIndex"/>, attention mask 0, position id 0 and document id -1.
/// </summary>
/// <remarks>Padding is found by position, never by id: when the pad id is the EOS id, real EOS tokens keep their
/// labels and attention.</remarks>
public sealed class SftCollator
{
    /// <summary>Creates a collator.</summary>
    /// <param name="padId">Id written into padding positions (any id: they are masked).</param>
    /// <param name="padToMultipleOf">Round the padded length up to a multiple of this (1 = no rounding).</param>
    public SftCollator(int padId, int padToMultipleOf = 1)
    {
        if (padId < 0) throw new ArgumentOutOfRangeException(nameof(padId), padId, "padId must be a token id (>= 0).");
        if (padToMultipleOf < 1) throw new ArgumentOutOfRangeException(nameof(padToMultipleOf), padToMultipleOf, "padToMultipleOf must be at least 1.");
        PadId = padId;
        PadToMultipleOf = padToMultipleOf;
    }

    /// <summary>A collator padding with the tokenizer's <c>pad_token</c>, or its <c>eos_token</c> when it has none (as TRL does).</summary>
    /// <exception cref="ArgumentException">The tokenizer has neither.</exception>
    public static SftCollator ForTokenizer(HfTokenizer tokenizer, int padToMultipleOf = 1)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int pad = tokenizer.PadId ?? tokenizer.EosId
            ?? throw new ArgumentException("The tokenizer has neither a pad_token nor an eos_token to pad with; pass a pad id.", nameof(tokenizer));
        return new SftCollator(pad, padToMultipleOf);
    }

    /// <summary>The id written into padding positions.</summary>
    public int PadId { get; }

    /// <summary>The padded length is a multiple of this.</summary>
    public int PadToMultipleOf { get; }

    /// <summary>Pads unpacked examples (each one document).</summary>
    public SftBatch Collate(IReadOnlyList<SftExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        return Collate(examples.Select(e => e.ToSequence()).ToList());
    }

    /// <summary>Pads sequences (examples or packed rows).</summary>
    /// <exception cref="ArgumentException">Empty batch, or a sequence whose arrays differ in length.</exception>
    public SftBatch Collate(IReadOnlyList<SftSequence> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) throw new ArgumentException("Cannot collate an empty batch.", nameof(sequences));
        for (int i = 0; i < sequences.Count; i++) sequences[i].CheckShape(i);
        int longest = Math.Max(1, sequences.Max(s => s.Length));
        int length = (longest + PadToMultipleOf - 1) / PadToMultipleOf * PadToMultipleOf;
        int batch = sequences.Count;
        var ids = new long[batch * length];
        var labels = new long[batch * length];
        var mask = new long[batch * length];
        var positions = new long[batch * length];
        var documents = new long[batch * length];
        Array.Fill(ids, PadId);
        Array.Fill(labels, CausalLmLoss.IgnoreIndex);
        Array.Fill(documents, -1);
        for (int b = 0; b < batch; b++)
        {
            var s = sequences[b];
            int row = b * length;
            for (int t = 0; t < s.Length; t++)
            {
                ids[row + t] = s.InputIds[t];
                labels[row + t] = s.Labels[t];
                mask[row + t] = 1;
                positions[row + t] = s.PositionIds[t];
                documents[row + t] = s.DocumentIds[t];
            }
        }
        return new SftBatch(batch, length, ids, labels, mask, positions, documents);
    }
}
