using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace FineTune.MLNet.Serving;

/// <summary>WordPiece inputs padded to 64 tokens.</summary>
[CustomMappingFactoryAttribute("FineTune.MLNet.Serving.WordPiece64")]
public sealed class WordPiece64Mapping : WordPieceMapping<WordPiece64Mapping.Padded>
{
    public sealed class Padded : IWordPieceInputs
    {
        [ColumnName("input_ids"), VectorType(64)]
        public long[] InputIds { get; set; } = new long[64];

        [ColumnName("attention_mask"), VectorType(64)]
        public long[] AttentionMask { get; set; } = new long[64];

        [ColumnName("token_type_ids"), VectorType(64)]
        public long[] TokenTypeIds { get; set; } = new long[64];
    }
}

/// <summary>WordPiece inputs padded to 128 tokens.</summary>
[CustomMappingFactoryAttribute("FineTune.MLNet.Serving.WordPiece128")]
public sealed class WordPiece128Mapping : WordPieceMapping<WordPiece128Mapping.Padded>
{
    public sealed class Padded : IWordPieceInputs
    {
        [ColumnName("input_ids"), VectorType(128)]
        public long[] InputIds { get; set; } = new long[128];

        [ColumnName("attention_mask"), VectorType(128)]
        public long[] AttentionMask { get; set; } = new long[128];

        [ColumnName("token_type_ids"), VectorType(128)]
        public long[] TokenTypeIds { get; set; } = new long[128];
    }
}

/// <summary>WordPiece inputs padded to 256 tokens.</summary>
[CustomMappingFactoryAttribute("FineTune.MLNet.Serving.WordPiece256")]
public sealed class WordPiece256Mapping : WordPieceMapping<WordPiece256Mapping.Padded>
{
    public sealed class Padded : IWordPieceInputs
    {
        [ColumnName("input_ids"), VectorType(256)]
        public long[] InputIds { get; set; } = new long[256];

        [ColumnName("attention_mask"), VectorType(256)]
        public long[] AttentionMask { get; set; } = new long[256];

        [ColumnName("token_type_ids"), VectorType(256)]
        public long[] TokenTypeIds { get; set; } = new long[256];
    }
}

/// <summary>WordPiece inputs padded to 512 tokens.</summary>
[CustomMappingFactoryAttribute("FineTune.MLNet.Serving.WordPiece512")]
public sealed class WordPiece512Mapping : WordPieceMapping<WordPiece512Mapping.Padded>
{
    public sealed class Padded : IWordPieceInputs
    {
        [ColumnName("input_ids"), VectorType(512)]
        public long[] InputIds { get; set; } = new long[512];

        [ColumnName("attention_mask"), VectorType(512)]
        public long[] AttentionMask { get; set; } = new long[512];

        [ColumnName("token_type_ids"), VectorType(512)]
        public long[] TokenTypeIds { get; set; } = new long[512];
    }
}
