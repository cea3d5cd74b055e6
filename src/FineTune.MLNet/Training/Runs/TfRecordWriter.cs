using System.Buffers.Binary;
using System.IO.Hashing;

namespace FineTune.MLNet.Training.Runs;

/// <summary>
/// TFRecord framing, as TensorFlow's <c>RecordWriter</c> and TensorBoard's reader use it: per record a little-endian
/// uint64 length, the masked CRC32C of those 8 bytes, the data, the masked CRC32C of the data.
/// </summary>
internal static class TfRecordWriter
{
    /// <summary>TensorFlow's <c>crc32c::Mask</c>: rotate right by 15 bits and add a constant, so a CRC of data that holds CRCs stays well mixed.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    public static void WriteRecord(Stream stream, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc32C(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc32C(data));
        stream.Write(header);
        stream.Write(data);
        stream.Write(footer);
    }
}
