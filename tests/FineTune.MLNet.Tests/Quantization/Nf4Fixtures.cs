using System.Runtime.InteropServices;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Quantization;

/// <summary>
/// Reads the golden numbers of Fixtures/Quantization (written by make_nf4_fixture.py, an independent numpy
/// re-implementation of bitsandbytes' NF4 + double quantization).
/// </summary>
internal static class Nf4Fixtures
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Quantization");

    public static JsonElement Reference()
    {
        var path = Path.Combine(Folder, "nf4_reference.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    public static float[] ReadFloat32(string fileName)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Folder, fileName));
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => e.GetSingle()).ToArray();

    public static long[] Longs(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt64()).ToArray();

    public static byte[] Bytes(JsonElement array) => array.EnumerateArray().Select(e => e.GetByte()).ToArray();

    /// <summary>Same shape, same dtype and element-wise equal.</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();
    }

    public static Tensor Weight(string caseName, long[] shape) =>
        tensor(ReadFloat32($"{caseName}.weight.f32")).view(shape);
}
