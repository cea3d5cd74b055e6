using System.Text.Json;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tokenization.HuggingFace;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary>
/// The GGUF fixtures written by llama.cpp's gguf-py in <c>../shared/gguf</c> (resolved from the repository root; CI has
/// them, so a missing folder fails loudly) and their golden greedy ids and logits (<c>golden.json</c>).
/// </summary>
internal static class GgufFixtures
{
    public const string StoriesF32 = "stories260K-f32.gguf";
    public const string TinyLlama = "tiny-llama-f32.gguf";
    public static readonly string[] All = [StoriesF32, "stories260K-f16.gguf", "stories260K-q8_0.gguf", "stories260K-q4_0.gguf", TinyLlama];

    private static readonly Lazy<string> s_dir = new(FindSharedGguf);
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

    private static string FindSharedGguf()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!System.IO.File.Exists(Path.Combine(dir.FullName, "FineTune.MLNet.sln"))) continue;
            var shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "gguf"));
            if (Directory.Exists(shared)) return shared;
            throw new DirectoryNotFoundException($"The GGUF fixtures folder '{shared}' (../shared/gguf next to the repository) is missing.");
        }
        throw new DirectoryNotFoundException($"No FineTune.MLNet.sln above '{AppContext.BaseDirectory}' to resolve ../shared/gguf from.");
    }
}
