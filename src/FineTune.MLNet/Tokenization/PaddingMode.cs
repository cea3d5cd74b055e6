namespace FineTune.MLNet.Tokenization;

/// <summary>How <see cref="WordPieceTokenizer.EncodeBatch"/> chooses the sequence length T of a batch.</summary>
public enum PaddingMode
{
    /// <summary>Pad to the longest row of the batch (after truncation); HF <c>padding="longest"</c>.</summary>
    Longest,

    /// <summary>Pad every row to the requested maximum length; HF <c>padding="max_length"</c>.</summary>
    MaxLength,
}
