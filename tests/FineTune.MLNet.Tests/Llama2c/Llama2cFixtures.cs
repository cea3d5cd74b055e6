using System.Security.Cryptography;
using System.Text.Json;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Llama2c;
using FineTune.MLNet.Import.Gguf;
using FineTune.MLNet.Import.Llama2c;
using FineTune.MLNet.Models.Pretrained;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Llama2c;

/// <summary>
/// Committed llama2.c fixtures (<c>Fixtures/llama2c</c>): <c>tok512.bin</c>, <c>golden.json</c> (llama2c.py and
/// reference.py logits, see make_golden.py) and <c>tokenizer-golden.json</c> (llama2c.py encode ids). The v0/v1/v2
/// checkpoints themselves are written here from the bundled model's weights by <see cref="Llama2cCheckpointWriter"/>;
/// their sha256 must equal the files make_golden.py wrote with its port of export.py.
/// </summary>
internal static class Llama2cFixtures
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama2c");

    public static string Tokenizer => Path.Combine(Dir, "tok512.bin");

    private static readonly Lazy<JsonElement> s_golden = new(() => Parse("golden.json"));
    private static readonly Lazy<JsonElement> s_tokenizerGolden = new(() => Parse("tokenizer-golden.json"));

    public static JsonElement Golden => s_golden.Value;

    public static JsonElement TokenizerGolden => s_tokenizerGolden.Value;

    public static readonly Llama2cHeader Header = new(0, 64, 172, 5, 8, 4, 512, 512, SharedClassifier: true);

    /// <summary>The header of each fixture file name of golden.json.</summary>
    public static Llama2cHeader HeaderOf(string file) => file switch
    {
        "v0.bin" => Header,
        "v0-untied.bin" => Header with { SharedClassifier = false },
        "v1.bin" => Header with { Version = 1 },
        "v1-untied.bin" => Header with { Version = 1, SharedClassifier = false },
        "v2.bin" => Header with { Version = 2, GroupSize = Golden.GetProperty("group_size").GetInt32() },
        _ => throw new ArgumentException(file),
    };

    /// <summary>Writes fixture <paramref name="file"/> into <paramref name="dir"/> and returns its path.</summary>
    public static string Write(string dir, string file)
    {
        var header = HeaderOf(file);
        var tensors = new Dictionary<string, float[]>(BundledWeights());
        if (!header.SharedClassifier) tensors["wcls"] = [.. tensors["token_embedding"].Select(v => v * 0.75f)];
        var path = Path.Combine(dir, file);
        Llama2cCheckpointWriter.Write(path, header, tensors);
        return path;
    }

    public static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    /// <summary>The bundled HF weights back in run.c names and layout (q/k rows back to adjacent pairs), shared classifier.</summary>
    public static IReadOnlyDictionary<string, float[]> BundledWeights() => s_weights.Value;

    private static readonly Lazy<Dictionary<string, float[]>> s_weights = new(() =>
    {
        var h = Header;
        using var scope = NewDisposeScope();
        var hf = HfCheckpoint.LoadFolder(PretrainedDecoders.ResolveFolder(PretrainedDecoders.TinyStories260K));
        float[] Values(string key) => hf[key].data<float>().ToArray();
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal)
        {
            ["token_embedding"] = Values("model.embed_tokens.weight"),
            ["rms_final"] = Values("model.norm.weight"),
        };
        foreach (var (name, key) in Llama2cWeightNames.PerLayer)
        {
            var layers = new List<float>();
            for (int l = 0; l < h.Layers; l++)
            {
                var v = Values($"model.layers.{l}.{key}");
                if (name == "wq") v = LlamaRopePermutation.ToGguf(v, h.Heads, h.Dim);
                else if (name == "wk") v = LlamaRopePermutation.ToGguf(v, h.KvHeads, h.Dim);
                layers.AddRange(v);
            }
            result[name] = [.. layers];
        }
        return result;
    });

    private static JsonElement Parse(string name) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, name))).RootElement;
}
