using System.Text.Json;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tokenization.HuggingFace;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary>
/// The GGUF fixtures written by llama.cpp's gguf-py (committed in <c>Fixtures/gguf</c>, a copy of <c>../shared/gguf</c>
/// with its README and provenance) and their golden greedy ids and logits (<c>golden.json</c>).
/// </summary>
internal static class GgufFixtures
{
    public const string StoriesF32 = "stories260K-f32.gguf";
    public const string TinyLlama = "tiny-llama-f32.gguf";
    public static readonly string[] All = [StoriesF32, "stories260K-f16.gguf", "stories260K-q8_0.gguf", "stories260K-q4_0.gguf", TinyLlama];

    private static readonly Lazy<string> s_dir = new(FindFixtures);
    private static readonly Lazy<JsonElement> s_golden = new(() => JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(s_dir.Value, "golden.json"))).RootElement);

    public static string Dir => s_dir.Value;

    public static string File(string name) => Path.Combine(Dir, name);

    /// <summary>A run of golden.json: "bos" (prompt [BOS]) or "text" ("Once upon a time").</summary>
    public static (int[] PromptIds, int[] GenIds, float[] FirstLogits) Run(string file, string run)
    {
        var r = s_golden.Value.GetProperty("models").GetProperty(file).GetProperty("runs").GetProperty(run);
        return ([.. r.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32())],
            [.. r.GetProperty("gen_ids").EnumerateArray().Select(e => e.GetInt32())],
            [.. r.GetProperty("first_logits").EnumerateArray().Select(e => e.GetSingle())]);
    }

    public static string PromptText => s_golden.Value.GetProperty("prompt_text").GetString()!;

    /// <summary>Greedy ids from TorchSharp (no EOS stop), as many as <paramref name="count"/>.</summary>
    public static int[] TorchGreedy(LlamaForCausalLM model, HfTokenizer tokenizer, IReadOnlyList<int> prompt, int count)
    {
        var generator = new TextGenerator(model, tokenizer);
        var result = generator.GenerateFromIds([prompt], new GenerationOptions { MaxNewTokens = count, EosTokenIds = [] })[0];
        return [.. result.TokenIds];
    }

    /// <summary>Logits (V) at the last position of <paramref name="prompt"/>.</summary>
    public static float[] TorchLastLogits(LlamaForCausalLM model, IReadOnlyList<int> prompt)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = tensor(prompt.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64).unsqueeze(0);   // (1, T)
        var logits = model.Forward(ids);                                                                  // (1, T, V)
        return logits[0, -1].data<float>().ToArray();
    }

    public static double MaxAbsDiff(IReadOnlyList<float> a, IReadOnlyList<float> b)
    {
        Xunit.Assert.Equal(a.Count, b.Count);
        double max = 0;
        for (int i = 0; i < a.Count; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }

    /// <summary>The committed copy under the test output's <c>Fixtures/gguf</c> (copied from ../shared/gguf, see its README).</summary>
    private static string FindFixtures()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "gguf");
        if (System.IO.File.Exists(Path.Combine(dir, "golden.json"))) return dir;
        throw new DirectoryNotFoundException($"The GGUF fixtures folder '{dir}' (tests/FineTune.MLNet.Tests/Fixtures/gguf, copied to the output) is missing.");
    }
}
