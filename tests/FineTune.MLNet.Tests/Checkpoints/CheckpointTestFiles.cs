using System.Buffers.Binary;
using System.Text;

namespace FineTune.MLNet.Tests.Checkpoints;

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ftmlnet-ckpt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Fixture paths and hand-made safetensors files.</summary>
internal static class CheckpointTestFiles
{
    public static string Fixture(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>Writes a safetensors file byte by byte: u64 length (or <paramref name="declaredLength"/>), header, data.</summary>
    public static void WriteRaw(string path, byte[] header, byte[] data, ulong? declaredLength = null)
    {
        using var stream = System.IO.File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, declaredLength ?? (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        stream.Write(data);
    }

    public static void WriteRaw(string path, string header, int dataBytes, ulong? declaredLength = null) =>
        WriteRaw(path, Encoding.UTF8.GetBytes(header), new byte[dataBytes], declaredLength);
}
