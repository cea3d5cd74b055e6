using Google.Protobuf;

namespace FineTune.MLNet.Tests.Onnx;

/// <summary>
/// Writes protobuf fields one by one with Google.Protobuf's <see cref="CodedOutputStream"/>, for tests that need bytes
/// the generated ONNX types never write (unpacked repeated fields, wrong wire types, hand-picked field orders).
/// </summary>
internal sealed class WireBytes
{
    private readonly MemoryStream _stream = new();
    private readonly CodedOutputStream _output;

    public WireBytes() => _output = new CodedOutputStream(_stream, leaveOpen: true);

    public WireBytes Varint(int field, long value)
    {
        _output.WriteTag(field, WireFormat.WireType.Varint);
        _output.WriteInt64(value);
        return this;
    }

    public WireBytes Float(int field, float value)
    {
        _output.WriteTag(field, WireFormat.WireType.Fixed32);
        _output.WriteFloat(value);
        return this;
    }

    public WireBytes Bytes(int field, byte[] value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteBytes(ByteString.CopyFrom(value));
        return this;
    }

    public WireBytes String(int field, string value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteString(value);
        return this;
    }

    /// <summary>A length-delimited field holding what <paramref name="body"/> writes (a message or a packed run).</summary>
    public WireBytes Message(int field, Action<WireBytes> body)
    {
        var child = new WireBytes();
        body(child);
        return Bytes(field, child.ToArray());
    }

    /// <summary>A bare varint with no tag (an element of a packed run).</summary>
    public WireBytes RawVarint(ulong value)
    {
        _output.WriteUInt64(value);
        return this;
    }

    public byte[] ToArray()
    {
        _output.Flush();
        return _stream.ToArray();
    }
}
