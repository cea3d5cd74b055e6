using System.Buffers.Binary;
using Google.Protobuf;

namespace FineTune.MLNet.Tests.Training.Runs;

/// <summary>A decoded TensorBoard event: wall time, step, and what it holds.</summary>
internal sealed record TestEvent(double WallTime, long Step, string? FileVersion, int? SessionStatus, IReadOnlyList<(string Tag, float Value)> Scalars);

/// <summary>
/// An independent minimal reader of TensorBoard event files for the tests: TFRecord framing checked with its own
/// bitwise CRC32C (Castagnoli, reflected polynomial 0x82F63B78), events decoded field by field with Google.Protobuf's
/// <see cref="CodedInputStream"/> as <c>event.proto</c> / <c>summary.proto</c> define them.
/// </summary>
internal static class TfRecordTestReader
{
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }

    public static uint Masked(ReadOnlySpan<byte> data)
    {
        var crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    public static List<byte[]> ReadRecords(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var records = new List<byte[]>();
        var at = 0;
        while (at < bytes.Length)
        {
            var length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at, 8)));
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8, 4)) != Masked(bytes.AsSpan(at, 8))) throw new InvalidDataException($"length CRC at {at}");
            var data = bytes.AsSpan(at + 12, length).ToArray();
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + length, 4)) != Masked(data)) throw new InvalidDataException($"data CRC at {at}");
            records.Add(data);
            at += 12 + length + 4;
        }
        return records;
    }

    public static List<TestEvent> ReadEvents(string path) => [.. ReadRecords(path).Select(Decode)];

    private static TestEvent Decode(byte[] data)
    {
        var input = new CodedInputStream(data);
        double wall = 0;
        long step = 0;
        string? version = null;
        int? status = null;
        var scalars = new List<(string, float)>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: wall = input.ReadDouble(); break;
                case 2: step = input.ReadInt64(); break;
                case 3: version = input.ReadString(); break;
                case 5: scalars.AddRange(Summary(input.ReadBytes())); break;
                case 7:
                    var log = new CodedInputStream(input.ReadBytes().ToByteArray());
                    uint t;
                    while ((t = log.ReadTag()) != 0) { if (WireFormat.GetTagFieldNumber(t) == 1) status = log.ReadEnum(); else log.SkipLastField(); }
                    break;
                default: input.SkipLastField(); break;
            }
        }
        return new TestEvent(wall, step, version, status, scalars);
    }

    private static IEnumerable<(string, float)> Summary(ByteString bytes)
    {
        var input = new CodedInputStream(bytes.ToByteArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != 1) { input.SkipLastField(); continue; }
            var value = new CodedInputStream(input.ReadBytes().ToByteArray());
            string name = "";
            float v = float.NaN;
            uint t;
            while ((t = value.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(t))
                {
                    case 1: name = value.ReadString(); break;
                    case 2: v = value.ReadFloat(); break;
                    default: value.SkipLastField(); break;
                }
            }
            yield return (name, v);
        }
    }
}
