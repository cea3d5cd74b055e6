using System.Buffers.Binary;
using System.Text;
using FineTune.MLNet.Tests.TestSupport;

namespace FineTune.MLNet.Tests.Checkpoints;

/// <summary>
/// A fresh temporary folder, deleted on dispose (and, if a test never disposes it, with the test run's
/// <see cref="TestTempRoot"/> when the process exits).
/// </summary>
internal sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "tmp")
    {
        Path = TestTempRoot.NewFolder(prefix);
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
