using System.Buffers;
using System.Text;

namespace FineTune.MLNet.Formats.Onnx;

/// <summary>
/// Minimal protobuf wire-format writer. Nested messages are written through <see cref="WriteMessage"/>,
/// which serializes the child into its own buffer first so its length prefix is known.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public void WriteTag(int field, WireType wire) => WriteVarint(((ulong)field << 3) | (uint)wire);

    public void WriteVarint(ulong value)
    {
        Span<byte> span = _buffer.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _buffer.Advance(n);
    }

    public void WriteInt64(int field, long value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint(unchecked((ulong)value));
    }

    public void WriteFloat(int field, float value)
    {
        WriteTag(field, WireType.Fixed32);
        Span<byte> span = _buffer.GetSpan(4);
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(span, value);
        _buffer.Advance(4);
    }

    public void WriteBytes(int field, ReadOnlySpan<byte> bytes)
    {
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)bytes.Length);
        _buffer.Write(bytes);
    }

    public void WriteString(int field, string value) => WriteBytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>Writes a string field only when non-empty (proto2 optional fields left unset otherwise).</summary>
    public void WriteStringIfSet(int field, string value)
    {
        if (value.Length > 0)
        {
            WriteString(field, value);
        }
    }

    public void WriteMessage(int field, Action<ProtoWriter> writeBody)
    {
        var child = new ProtoWriter();
        writeBody(child);
        WriteBytes(field, child.WrittenSpan);
    }
}
