using FineTune.MLNet.Generation;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tokenization.HuggingFace;
using LLama;
using LLama.Common;
using LLama.Native;

namespace FineTune.MLNet.Benchmarks;

/// <summary>One way to decode greedily: the new ids after a prompt (per call: its own KV cache / context / generator).</summary>
internal interface IDecoderEngine : IDisposable
{
    string Name { get; }

    int[] Greedy(int[] prompt, int newTokens);
}

/// <summary>The project's <see cref="TextGenerator"/> (TorchSharp, KV cache, no EOS stop).</summary>
internal sealed class TorchSharpDecoderEngine(LlamaForCausalLM model, HfTokenizer tokenizer) : IDecoderEngine
{
    private readonly TextGenerator _generator = new(model, tokenizer);

    public string Name => "TorchSharp (TextGenerator)";

    public int[] Greedy(int[] prompt, int newTokens) =>
        [.. _generator.GenerateFromIds([prompt], new GenerationOptions { MaxNewTokens = newTokens, EosTokenIds = [] })[0].TokenIds];

    public void Dispose() { }
}

/// <summary>An <c>export --format genai</c> folder in Microsoft.ML.OnnxRuntimeGenAI 0.18 (it stops at EOS, without the EOS id).</summary>
internal sealed class GenAiDecoderEngine(string folder) : IDecoderEngine
{
    private readonly Microsoft.ML.OnnxRuntimeGenAI.Model _model = new(folder);

    public string Name => "ONNX Runtime GenAI 0.18";

    public int[] Greedy(int[] prompt, int newTokens)
    {
        using var parameters = new Microsoft.ML.OnnxRuntimeGenAI.GeneratorParams(_model);
        parameters.SetSearchOption("max_length", prompt.Length + newTokens);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Microsoft.ML.OnnxRuntimeGenAI.Generator(_model, parameters);
        generator.AppendTokens(prompt);
        while (!generator.IsDone()) generator.GenerateNextToken();
        return [.. generator.GetSequence(0).ToArray().Skip(prompt.Length)];
    }

    public void Dispose() => _model.Dispose();
}

/// <summary>
/// An <c>export --format gguf --type f32</c> file in llama.cpp through LLamaSharp 0.30 (CPU backend): flash attention off and an
/// F32 K/V cache, the settings under which its greedy ids equal TorchSharp's (tests/Gguf); argmax over the logits per step.
/// </summary>
internal sealed class LlamaCppDecoderEngine : IDecoderEngine
{
    private readonly LLamaWeights _weights;
    private readonly ModelParams _params;

    public LlamaCppDecoderEngine(string ggufPath, int threads)
    {
        if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
            NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level is LLamaLogLevel.Error) Console.Error.Write(message); });
        _params = new ModelParams(ggufPath)
        {
            ContextSize = 512, GpuLayerCount = 0, FlashAttention = false,
            TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32,
            Threads = threads, BatchThreads = threads,
        };
        _weights = LLamaWeights.LoadFromFile(_params);
    }

    public string Name => "llama.cpp (LLamaSharp 0.30)";

    public int[] Greedy(int[] prompt, int newTokens)
    {
        using var context = _weights.CreateContext(_params);
        var batch = new LLamaBatch();
        for (var i = 0; i < prompt.Length; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
        Decode(context, batch);
        var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
        var ids = new int[newTokens];
        for (var step = 0; step < newTokens; step++)
        {
            ids[step] = ArgMax(logits);
            if (step == newTokens - 1) break;
            batch.Clear();
            batch.Add(ids[step], prompt.Length + step, LLamaSeqId.Zero, true);
            Decode(context, batch);
            logits = context.NativeHandle.GetLogitsIth(0);
        }
        return ids;
    }

    public void Dispose() => _weights.Dispose();

    private static void Decode(LLamaContext context, LLamaBatch batch)
    {
        var result = context.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode failed: {result}");
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
