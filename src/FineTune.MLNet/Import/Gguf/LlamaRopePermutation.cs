namespace FineTune.MLNet.Import.Gguf;

/// <summary>
/// The q/k row permutation between Hugging Face's rotate-half RoPE layout (dims i and i + d/2 of a head form a pair)
/// and llama.cpp's <c>llama</c> architecture, which rotates adjacent pairs (2i, 2i + 1) as Meta's original code and
/// llama2.c do. <see cref="ToGguf"/> is <c>LlamaModel.permute</c> of <c>convert_hf_to_gguf.py</c>
/// (<c>reshape(heads, 2, d/2, cols).swapaxes(1, 2)</c>); <see cref="ToHf"/> is its inverse, which is also what
/// transformers' <c>convert_llama_weights_to_hf.py</c> applies to Meta / llama2.c weights. Every llama-architecture
/// GGUF holds q/k in the adjacent-pair layout (that is what llama.cpp runs), so an importer applies
/// <see cref="ToHf"/> to every file, whatever wrote it.
/// </summary>
public static class LlamaRopePermutation
{
    /// <summary>HF rows (heads·d, cols) to llama.cpp rows: new row h·d + 2i + j is old row h·d + j·d/2 + i.</summary>
    public static float[] ToGguf(float[] rows, int heads, long cols) => Permute(rows, heads, cols, toGguf: true);

    /// <summary>llama.cpp rows to HF rows (the inverse of <see cref="ToGguf"/>).</summary>
    public static float[] ToHf(float[] rows, int heads, long cols) => Permute(rows, heads, cols, toGguf: false);

    private static float[] Permute(float[] rows, int heads, long cols, bool toGguf)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (heads <= 0 || cols <= 0 || rows.LongLength % (heads * cols) != 0)
            throw new ArgumentException($"{rows.LongLength} values are not {heads} heads of whole rows of {cols}.", nameof(rows));
        long headDim = rows.LongLength / cols / heads;
        if (headDim % 2 != 0) throw new ArgumentException($"head size {headDim} is odd; RoPE needs pairs.", nameof(heads));
        long half = headDim / 2;
        var result = new float[rows.LongLength];
        for (long h = 0; h < heads; h++)
            for (long j = 0; j < 2; j++)
                for (long i = 0; i < half; i++)
                {
                    long hfRow = h * headDim + j * half + i;     // rotate-half: pair (i, i + d/2)
                    long ggufRow = h * headDim + 2 * i + j;      // adjacent: pair (2i, 2i + 1)
                    long from = toGguf ? hfRow : ggufRow, to = toGguf ? ggufRow : hfRow;
                    Array.Copy(rows, from * cols, result, to * cols, cols);
                }
        return result;
    }
}
