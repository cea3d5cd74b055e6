namespace FineTune.MLNet.Formats.Llama2c;

/// <summary>How a tensor is stored: fp32, Q8_0 (int8 values then one fp32 scale per group), or fp32 bytes to skip.</summary>
public enum Llama2cEncoding
{
    Fp32,
    Q8,
    Skip,
}

/// <summary>One tensor of a checkpoint in file order; <paramref name="Chunks"/> &gt; 1 when each layer's matrix is quantized on its own (v2).</summary>
/// <param name="Name">The <c>run.c</c> name.</param>
/// <param name="Shape">Row-major shape of the whole tensor.</param>
/// <param name="Encoding">How it is stored.</param>
/// <param name="Chunks">Consecutive equal parts, each stored as its own block (per-layer Q8_0 in v2).</param>
public sealed record Llama2cSegment(string Name, long[] Shape, Llama2cEncoding Encoding, int Chunks = 1)
{
    /// <summary>Number of values.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => checked(a * b));

    /// <summary>Bytes in the file for Q8_0 groups of <paramref name="groupSize"/> (ignored for fp32).</summary>
    public long Bytes(int groupSize) => Encoding == Llama2cEncoding.Q8 ? checked(Count + 4 * (Count / groupSize)) : checked(4 * Count);
}

/// <summary>
/// The order and shapes of the tensors of each llama2.c layout, as <c>run.c</c> (<c>memory_map_weights</c>, v0) and
/// <c>export.py</c> (<c>legacy_export</c>, <c>version1_export</c>, <c>version2_export</c>) lay them out.
/// </summary>
public static class Llama2cLayout
{
    /// <summary>The weights a model has (no freq_cis tables): per-layer weights lead with the layer count.</summary>
    public static IReadOnlyList<Llama2cSegment> Weights(Llama2cHeader h)
    {
        ArgumentNullException.ThrowIfNull(h);
        return [.. Segments(h).Where(s => s.Encoding != Llama2cEncoding.Skip)];
    }

    /// <summary>Every stored region after the header, in file order.</summary>
    public static IReadOnlyList<Llama2cSegment> Segments(Llama2cHeader h)
    {
        ArgumentNullException.ThrowIfNull(h);
        long L = h.Layers, d = h.Dim, kv = h.KvDim, f = h.HiddenDim, v = h.VocabSize;
        var big = h.Version == 2 ? Llama2cEncoding.Q8 : Llama2cEncoding.Fp32;
        int layers = h.Version == 2 ? h.Layers : 1;
        Llama2cSegment Norm(string name, params long[] shape) => new(name, shape, Llama2cEncoding.Fp32);
        Llama2cSegment Matrix(string name, long rows, long cols) => new(name, [L, rows, cols], big, layers);
        var embedding = new Llama2cSegment("token_embedding", [v, d], big);
        var matrices = new[]
        {
            Matrix("wq", d, d), Matrix("wk", kv, d), Matrix("wv", kv, d), Matrix("wo", d, d),
            Matrix("w1", f, d), Matrix("w2", d, f), Matrix("w3", f, d),
        };
        var segments = new List<Llama2cSegment>();
        if (h.Version == 0)
        {
            segments.Add(embedding);
            segments.Add(Norm("rms_att", L, d));
            segments.AddRange(matrices[..4]);
            segments.Add(Norm("rms_ffn", L, d));
            segments.AddRange(matrices[4..]);
            segments.Add(Norm("rms_final", d));
            segments.Add(new Llama2cSegment("freq_cis_real", [h.SeqLen, h.HeadSize / 2], Llama2cEncoding.Skip));
            segments.Add(new Llama2cSegment("freq_cis_imag", [h.SeqLen, h.HeadSize / 2], Llama2cEncoding.Skip));
        }
        else
        {
            segments.Add(Norm("rms_att", L, d));
            segments.Add(Norm("rms_ffn", L, d));
            segments.Add(Norm("rms_final", d));
            segments.Add(embedding);
            segments.AddRange(matrices);
        }
        if (!h.SharedClassifier) segments.Add(new Llama2cSegment("wcls", [v, d], big));
        return segments;
    }
}
