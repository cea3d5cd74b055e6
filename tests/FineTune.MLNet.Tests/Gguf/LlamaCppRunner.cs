using LLama;
using LLama.Common;
using LLama.Native;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary>
/// Runs a GGUF file in llama.cpp through LLamaSharp 0.30 (CPU backend; it picks the avx2 natives itself): greedy ids
/// from given prompt ids and the logits of the first step. Flash attention off and an F32 K/V cache, because
/// llama.cpp's defaults round K/V to F16 (logit differences up to ~1.5e-2 on stories260K).
/// </summary>
internal sealed class LlamaCppRunner : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly ModelParams _params;

    static LlamaCppRunner()
    {
        // llama.cpp logs every load to stderr; keep warnings and errors only.
        if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
            NativeLibraryConfig.All.WithLogCallback((level, message) =>
            {
                if (level is LLamaLogLevel.Error or LLamaLogLevel.Warning) Console.Error.Write(message);
            });
    }

    public LlamaCppRunner(string ggufPath, uint contextSize = 128)
    {
        _params = new ModelParams(ggufPath)
        {
            ContextSize = contextSize,
            GpuLayerCount = 0,
            FlashAttention = false,
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            Threads = 1,
            BatchThreads = 1,
        };
        _weights = LLamaWeights.LoadFromFile(_params);
    }

    /// <summary>Vocabulary size as llama.cpp reads it.</summary>
    public int VocabCount => _weights.Vocab.Count;

    /// <summary>llama.cpp's own tokenization (with BOS when the file says add_bos_token).</summary>
    public int[] Tokenize(string text)
    {
        using var context = _weights.CreateContext(_params);
        return [.. context.Tokenize(text, addBos: true, special: false).Select(t => (int)t)];
    }

    /// <summary><paramref name="count"/> greedy ids after <paramref name="prompt"/> (no EOS stop) and the logits after the prompt.</summary>
    public (int[] Ids, float[] FirstLogits) Greedy(IReadOnlyList<int> prompt, int count)
    {
        using var context = _weights.CreateContext(_params);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
        Decode(context, batch);
        var first = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1).ToArray();
        var ids = new List<int>();
        var logits = first;
        int position = prompt.Count;
        while (true)
        {
            int next = ArgMax(logits);
            ids.Add(next);
            if (ids.Count == count) break;
            batch.Clear();
            batch.Add(next, position++, LLamaSeqId.Zero, true);
            Decode(context, batch);
            logits = context.NativeHandle.GetLogitsIth(0).ToArray();
        }
        return ([.. ids], first);
    }

    public void Dispose() => _weights.Dispose();

    private static void Decode(LLamaContext context, LLamaBatch batch)
    {
        var result = context.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode failed: {result}");
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
