using System.Text;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary>Writes GGUF header fields one by one, so tests can build valid and hostile files by hand.</summary>
internal sealed class GgufBytes
{
    private readonly MemoryStream _stream = new();
    private readonly BinaryWriter _w;

    public GgufBytes() => _w = new BinaryWriter(_stream, Encoding.UTF8, leaveOpen: true);

    public GgufBytes U32(uint v) { _w.Write(v); return this; }
    public GgufBytes U64(ulong v) { _w.Write(v); return this; }
    public GgufBytes Raw(params byte[] bytes) { _w.Write(bytes); return this; }
    public GgufBytes Str(string s) { var b = Encoding.UTF8.GetBytes(s); _w.Write((ulong)b.Length); _w.Write(b); return this; }

    /// <summary>Magic, version 3, tensor and kv counts.</summary>
    public GgufBytes Header(ulong tensors, ulong kvs, uint version = 3) => Raw("GGUF"u8.ToArray()).U32(version).U64(tensors).U64(kvs);

    /// <summary>A key with a UInt32 value.</summary>
    public GgufBytes KvU32(string key, uint value) => Str(key).U32(4).U32(value);

    /// <summary>A tensor info.</summary>
    public GgufBytes Tensor(string name, ulong[] dims, uint type, ulong offset)
    {
        Str(name).U32((uint)dims.Length);
        foreach (var d in dims) U64(d);
        return U32(type).U64(offset);
    }

    /// <summary>Zero bytes up to a multiple of <paramref name="alignment"/>, then <paramref name="dataBytes"/> data bytes.</summary>
    public GgufBytes Data(int dataBytes, int alignment = 32)
    {
        _w.Flush();
        while (_stream.Length % alignment != 0) _w.Write((byte)0);
        _w.Write(new byte[dataBytes]);
        return this;
    }

    public byte[] ToArray()
    {
        _w.Flush();
        return _stream.ToArray();
    }
}
