using System.Runtime.InteropServices;

namespace FineTune.MLNet.Formats.Llama2c;

/// <summary>
/// Writes llama2.c checkpoints in the three layouts of llama2.c's <c>export.py</c>: v0 (<c>legacy_export</c>, with the
/// freq_cis tables), v1 (<c>version1_export</c>) and v2 (<c>version2_export</c>: each tensor, per layer, quantized to
/// Q8_0 as <c>quantize_q80</c> does: scale = max|w| / 127 per group, q = round(w / scale)).
/// </summary>
public static class Llama2cCheckpointWriter
{
    /// <summary>Writes <paramref name="tensors"/> (by <c>run.c</c> name, shapes of <see cref="Llama2cLayout.Weights"/>) under <paramref name="header"/>.</summary>
    public static void Write(string path, Llama2cHeader header, IReadOnlyDictionary<string, float[]> tensors)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(tensors);
        var segments = Llama2cLayout.Segments(header);
        foreach (var s in segments.Where(s => s.Encoding != Llama2cEncoding.Skip))
        {
            if (!tensors.TryGetValue(s.Name, out var values)) throw new ArgumentException($"tensor '{s.Name}' is missing.", nameof(tensors));
            if (values.LongLength != s.Count) throw new ArgumentException($"tensor '{s.Name}' has {values.LongLength} values, the header needs {s.Count}.", nameof(tensors));
        }
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            WriteHeader(w, header);
            foreach (var s in segments)
            {
                if (s.Encoding == Llama2cEncoding.Skip)
                {
                    WriteFloats(w, FreqCis(header, real: s.Name == "freq_cis_real"));
                    continue;
                }
                var values = tensors[s.Name];
                long chunk = s.Count / s.Chunks;
                for (int c = 0; c < s.Chunks; c++)
                {
                    var part = values.AsSpan((int)(c * chunk), (int)chunk);
                    if (s.Encoding == Llama2cEncoding.Fp32) WriteFloats(w, part);
                    else WriteQ8(w, part, header.GroupSize);
                }
            }
        });
    }

    private static void WriteHeader(BinaryWriter w, Llama2cHeader h)
    {
        if (h.Version == 0)
        {
            foreach (var v in new[] { h.Dim, h.HiddenDim, h.Layers, h.Heads, h.KvHeads, h.SharedClassifier ? h.VocabSize : -h.VocabSize, h.SeqLen }) w.Write(v);
            return;
        }
        w.Write(Llama2cHeader.Magic);
        w.Write(h.Version);
        foreach (var v in new[] { h.Dim, h.HiddenDim, h.Layers, h.Heads, h.KvHeads, h.VocabSize, h.SeqLen }) w.Write(v);
        w.Write((byte)(h.SharedClassifier ? 1 : 0));
        int written = 37;
        if (h.Version == 2)
        {
            w.Write(h.GroupSize);
            written += 4;
        }
        w.Write(new byte[Llama2cHeader.VersionedHeaderBytes - written]);
    }

    /// <summary>
    /// <c>precompute_freqs_cis(head_size, seq_len)</c>: cos (real) or sin (imaginary) of position · θ_i, [seq_len, head_size/2].
    /// run.c skips these tables; they are computed in float64 and rounded, so writers agree to the bit (PyTorch's float32
    /// tables in old files differ in the last bit).
    /// </summary>
    private static float[] FreqCis(Llama2cHeader h, bool real)
    {
        int half = h.HeadSize / 2;
        var values = new float[(long)h.SeqLen * half];
        for (int t = 0; t < h.SeqLen; t++)
            for (int i = 0; i < half; i++)
            {
                double angle = t * (1.0 / Math.Pow(10000.0, 2.0 * i / h.HeadSize));
                values[(long)t * half + i] = (float)(real ? Math.Cos(angle) : Math.Sin(angle));
            }
        return values;
    }

    private static void WriteFloats(BinaryWriter w, ReadOnlySpan<float> values) => w.Write(MemoryMarshal.AsBytes(values));

    private static void WriteQ8(BinaryWriter w, ReadOnlySpan<float> values, int groupSize)
    {
        var q = new sbyte[values.Length];
        var scales = new float[values.Length / groupSize];
        for (int g = 0; g < scales.Length; g++)
        {
            var group = values.Slice(g * groupSize, groupSize);
            float max = 0;
            foreach (var v in group) max = MathF.Max(max, MathF.Abs(v));
            float scale = max / 127f;
            scales[g] = scale;
            for (int i = 0; i < groupSize; i++)
                q[g * groupSize + i] = scale == 0 ? (sbyte)0 : (sbyte)MathF.Round(group[i] / scale, MidpointRounding.ToEven);
        }
        w.Write(MemoryMarshal.AsBytes(q.AsSpan()));
        WriteFloats(w, scales);
    }
}
