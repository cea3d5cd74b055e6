namespace FineTune.MLNet.Formats.Llama2c;

/// <summary>
/// The header of a llama2.c checkpoint (<c>run.c</c> <c>Config</c>, plus the fields of <c>export.py</c>'s versioned
/// layouts). Version 0 is the legacy 7-int32 header (a negative vocab_size there means an untied classifier);
/// versions 1 (fp32) and 2 (Q8_0) start with the magic <c>"ak42"</c> and take 256 bytes.
/// </summary>
/// <param name="Version">0 (legacy), 1 (fp32) or 2 (Q8_0 groups).</param>
/// <param name="Dim">Residual width.</param>
/// <param name="HiddenDim">SwiGLU inner width.</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads.</param>
/// <param name="VocabSize">Vocabulary size (always positive here).</param>
/// <param name="SeqLen">Longest context.</param>
/// <param name="SharedClassifier">Whether the output classifier is the token embedding.</param>
/// <param name="GroupSize">Q8_0 group size (version 2), else 0.</param>
public sealed record Llama2cHeader(int Version, int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, int SeqLen,
    bool SharedClassifier, int GroupSize = 0)
{
    /// <summary><c>"ak42"</c> read as a little-endian uint32.</summary>
    public const uint Magic = 0x616B3432;

    /// <summary>Bytes of the legacy header (7 int32).</summary>
    public const int LegacyHeaderBytes = 28;

    /// <summary>Bytes of the v1/v2 header.</summary>
    public const int VersionedHeaderBytes = 256;

    /// <summary>Width of one head.</summary>
    public int HeadSize => Dim / Heads;

    /// <summary>Rows of wk and wv.</summary>
    public int KvDim => Dim / Heads * KvHeads;

    /// <summary>Bytes before the first tensor.</summary>
    public int HeaderBytes => Version == 0 ? LegacyHeaderBytes : VersionedHeaderBytes;
}
