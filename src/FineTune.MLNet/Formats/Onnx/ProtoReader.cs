namespace FineTune.MLNet.Formats.Onnx;

/// <summary>Protobuf wire types (groups, 3 and 4, are deprecated and rejected).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    Fixed32 = 5,
}

/// <summary>
/// Bounds-checked reader of the protobuf wire format over one message's bytes. Every read checks the
/// message end; errors name the message being read (<see cref="Context"/>) and the absolute byte offset.
/// Length-delimited payloads are returned as slices of the source memory (no copy).
/// </summary>
internal sealed class ProtoReader
{
    private readonly ReadOnlyMemory<byte> _buffer; // whole source (offsets in errors are into it)
    private readonly int _end;
    private int _position;

    public ProtoReader(ReadOnlyMemory<byte> buffer, string context)
        : this(buffer, 0, buffer.Length, context, depth: 0) { }

    private ProtoReader(ReadOnlyMemory<byte> buffer, int start, int end, string context, int depth)
    {
        _buffer = buffer;
        _position = start;
        _end = end;
        Context = context;
        Depth = depth;
    }

    /// <summary>What is being read, e.g. "GraphProto 'main' > NodeProto #3"; used in error messages.</summary>
    public string Context { get; }

    /// <summary>Message nesting depth (guards against hostile deep nesting).</summary>
    public int Depth { get; }

    public const int MaxDepth = 32;

    public bool AtEnd => _position >= _end;

    public int Position => _position;

    /// <summary>Reads a field key; returns false at the end of the message.</summary>
    public bool TryReadTag(out int fieldNumber, out WireType wireType)
    {
        fieldNumber = 0;
        wireType = WireType.Varint;
        if (AtEnd)
        {
            return false;
        }
        int tagStart = _position;
        ulong key = ReadVarint();
        ulong field = key >> 3;
        int wire = (int)(key & 7);
        if (field == 0 || field > int.MaxValue >> 3)
        {
            throw Error($"invalid field number {field}", tagStart);
        }
        if (wire is 3 or 4)
        {
            throw Error($"field {field} uses the deprecated group wire type {wire}, which ONNX does not use", tagStart);
        }
        if (wire is not (0 or 1 or 2 or 5))
        {
            throw Error($"field {field} has unknown wire type {wire}", tagStart);
        }
        fieldNumber = (int)field;
        wireType = (WireType)wire;
        return true;
    }

    public ulong ReadVarint()
    {
        int start = _position;
        ulong result = 0;
        ReadOnlySpan<byte> span = _buffer.Span;
        for (int i = 0; i < 10; i++)
        {
            if (_position >= _end)
            {
                throw Error("varint runs past the end of the message", start);
            }
            byte b = span[_position++];
            if (i == 9 && b > 1)
            {
                throw Error("varint overflows 64 bits", start);
            }
            result |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
        throw Error("varint is longer than 10 bytes", start);
    }

    public long ReadInt64() => unchecked((long)ReadVarint());

    /// <summary>Reads an int32 field (protobuf sign-extends negative int32 to a 10-byte varint).</summary>
    public int ReadInt32()
    {
        int start = _position;
        long value = ReadInt64();
        if (value < int.MinValue || value > int.MaxValue)
        {
            throw Error($"int32 field value {value} is out of range", start);
        }
        return (int)value;
    }

    public uint ReadFixed32()
    {
        RequireBytes(4, "fixed32");
        uint value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_buffer.Span.Slice(_position, 4));
        _position += 4;
        return value;
    }

    public ulong ReadFixed64()
    {
        RequireBytes(8, "fixed64");
        ulong value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_buffer.Span.Slice(_position, 8));
        _position += 8;
        return value;
    }

    public float ReadFloat() => BitConverter.UInt32BitsToSingle(ReadFixed32());

    public double ReadDouble() => BitConverter.UInt64BitsToDouble(ReadFixed64());

    /// <summary>Reads a length-delimited payload as a slice of the source memory.</summary>
    public ReadOnlyMemory<byte> ReadBytes()
    {
        int start = _position;
        ulong length = ReadVarint();
        if (length > (ulong)(_end - _position))
        {
            throw Error($"length {length} runs past the end of the message ({_end - _position} bytes left)", start);
        }
        ReadOnlyMemory<byte> slice = _buffer.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    public string ReadString()
    {
        int start = _position;
        ReadOnlyMemory<byte> bytes = ReadBytes();
        try
        {
            return new System.Text.UTF8Encoding(false, true).GetString(bytes.Span);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw Error("string field is not valid UTF-8", start);
        }
    }

    /// <summary>Opens the next length-delimited payload as a nested message reader.</summary>
    public ProtoReader ReadMessage(string context)
    {
        int start = _position;
        if (Depth + 1 > MaxDepth)
        {
            throw Error($"messages nested deeper than {MaxDepth} levels", start);
        }
        ReadOnlyMemory<byte> bytes = ReadBytes();
        int payloadStart = _position - bytes.Length;
        return new ProtoReader(_buffer, payloadStart, _position, $"{Context} > {context}", Depth + 1);
    }

    /// <summary>Reads one varint element, or all of a packed run, into <paramref name="target"/>.</summary>
    public void ReadRepeatedInt64(WireType wireType, List<long> target, string field)
    {
        if (wireType == WireType.Varint)
        {
            target.Add(ReadInt64());
            return;
        }
        ExpectWireType(wireType, WireType.LengthDelimited, field);
        ProtoReader packed = ReadMessage(field);
        while (!packed.AtEnd)
        {
            target.Add(packed.ReadInt64());
        }
    }

    public void ReadRepeatedInt32(WireType wireType, List<int> target, string field)
    {
        if (wireType == WireType.Varint)
        {
            target.Add(ReadInt32());
            return;
        }
        ExpectWireType(wireType, WireType.LengthDelimited, field);
        ProtoReader packed = ReadMessage(field);
        while (!packed.AtEnd)
        {
            target.Add(packed.ReadInt32());
        }
    }

    public void ReadRepeatedFloat(WireType wireType, List<float> target, string field)
    {
        if (wireType == WireType.Fixed32)
        {
            target.Add(ReadFloat());
            return;
        }
        ExpectWireType(wireType, WireType.LengthDelimited, field);
        ProtoReader packed = ReadMessage(field);
        if ((packed._end - packed._position) % 4 != 0)
        {
            throw Error($"packed float field '{field}' has a length that is not a multiple of 4", _position);
        }
        while (!packed.AtEnd)
        {
            target.Add(packed.ReadFloat());
        }
    }

    public void ReadRepeatedDouble(WireType wireType, List<double> target, string field)
    {
        if (wireType == WireType.Fixed64)
        {
            target.Add(ReadDouble());
            return;
        }
        ExpectWireType(wireType, WireType.LengthDelimited, field);
        ProtoReader packed = ReadMessage(field);
        if ((packed._end - packed._position) % 8 != 0)
        {
            throw Error($"packed double field '{field}' has a length that is not a multiple of 8", _position);
        }
        while (!packed.AtEnd)
        {
            target.Add(packed.ReadDouble());
        }
    }

    /// <summary>Skips a field this reader does not interpret.</summary>
    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: RequireBytes(8, "fixed64"); _position += 8; break;
            case WireType.Fixed32: RequireBytes(4, "fixed32"); _position += 4; break;
            case WireType.LengthDelimited: ReadBytes(); break;
            default: throw Error($"cannot skip wire type {(int)wireType}", _position);
        }
    }

    public void ExpectWireType(WireType actual, WireType expected, string field)
    {
        if (actual != expected)
        {
            throw Error($"field '{field}' has wire type {(int)actual}, expected {(int)expected}", _position);
        }
    }

    public OnnxFormatException Error(string message) => Error(message, _position);

    private OnnxFormatException Error(string message, int offset) =>
        new($"Invalid ONNX protobuf in {Context} at byte {offset}: {message}.");

    private void RequireBytes(int count, string what)
    {
        if (_end - _position < count)
        {
            throw Error($"{what} needs {count} bytes but only {_end - _position} are left in the message", _position);
        }
    }
}
