using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace FineTune.MLNet.Formats.Gguf;

/// <summary>
/// Encodes float32 values to ggml storage types and back: F32, F16, BF16, Q8_0, Q4_0. Quantization follows ggml's
/// reference functions byte for byte (<c>quantize_row_q8_0_ref</c> / <c>quantize_row_q4_0_ref</c> in
/// <c>ggml-quants.c</c>, the ones meant "for deterministic creation of model files"): float32 arithmetic, the
/// scale rounded to F16 with round-to-nearest-even, Q8_0 values by <c>roundf</c> (half away from zero), Q4_0 by
/// truncating <c>x/d + 8.5</c> and clamping to 15. Checked against files quantized by llama.cpp's gguf-py.
/// </summary>
public static class GgmlBlocks
{
    /// <summary>Elements per Q8_0 / Q4_0 block.</summary>
    public const int QuantBlock = 32;

    /// <summary>Values of <paramref name="count"/> elements stored as <paramref name="type"/>.</summary>
    /// <param name="name">Tensor name for error messages.</param>
    public static float[] Dequantize(GgmlType type, ReadOnlySpan<byte> data, long count, string name = "tensor")
    {
        if (count < 0 || count > Array.MaxLength) throw new NotSupportedException($"{name}: {count} elements do not fit in one array.");
        long expected = GgmlTypeInfo.IsKnown(type) && count % GgmlTypeInfo.BlockSize(type) == 0 ? GgmlTypeInfo.ByteSize(type, count) : -1;
        if (expected != data.Length) throw new ArgumentException($"{name}: {data.Length} bytes do not hold {count} {type} values.", nameof(data));
        var values = new float[count];
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<byte, float>(data).CopyTo(values);
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported.");
                break;
            case GgmlType.F16:
                for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(data[(2 * i)..]);
                break;
            case GgmlType.BF16:
                for (int i = 0; i < values.Length; i++) values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]) << 16);
                break;
            case GgmlType.Q8_0:
                for (int b = 0; b < values.Length / QuantBlock; b++)
                {
                    var block = data.Slice(b * 34, 34);
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (int j = 0; j < QuantBlock; j++) values[b * QuantBlock + j] = (sbyte)block[2 + j] * d;
                }
                break;
            case GgmlType.Q4_0:
                for (int b = 0; b < values.Length / QuantBlock; b++)
                {
                    var block = data.Slice(b * 18, 18);
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (int j = 0; j < QuantBlock / 2; j++)
                    {
                        values[b * QuantBlock + j] = ((block[2 + j] & 0x0F) - 8) * d;
                        values[b * QuantBlock + j + QuantBlock / 2] = ((block[2 + j] >> 4) - 8) * d;
                    }
                }
                break;
            default:
                throw new NotSupportedException($"{name}: ggml type {type} cannot be dequantized (supported: F32, F16, BF16, Q8_0, Q4_0).");
        }
        return values;
    }

    /// <summary>Stores <paramref name="values"/> as <paramref name="type"/> (F32, F16, BF16, Q8_0, Q4_0; quantized types need a multiple of 32 values).</summary>
    public static byte[] Encode(GgmlType type, ReadOnlySpan<float> values) => type switch
    {
        GgmlType.F32 => MemoryMarshal.AsBytes(values).ToArray(),
        GgmlType.F16 => ToF16(values),
        GgmlType.BF16 => ToBF16(values),
        GgmlType.Q8_0 => QuantizeQ8_0(values),
        GgmlType.Q4_0 => QuantizeQ4_0(values),
        _ => throw new NotSupportedException($"ggml type {type} cannot be written (supported: F32, F16, BF16, Q8_0, Q4_0)."),
    };

    /// <summary>ggml <c>quantize_row_q8_0_ref</c>: per block of 32, d = amax/127 (F16), q = roundf(x/d).</summary>
    public static byte[] QuantizeQ8_0(ReadOnlySpan<float> x)
    {
        int nb = Blocks(x.Length);
        var y = new byte[nb * 34];
        for (int i = 0; i < nb; i++)
        {
            var block = x.Slice(i * QuantBlock, QuantBlock);
            float amax = 0f;
            foreach (float v in block) amax = MathF.Max(amax, MathF.Abs(v));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            var outBlock = y.AsSpan(i * 34, 34);
            BinaryPrimitives.WriteHalfLittleEndian(outBlock, (Half)d);
            for (int j = 0; j < QuantBlock; j++) outBlock[2 + j] = (byte)(sbyte)MathF.Round(block[j] * id, MidpointRounding.AwayFromZero);
        }
        return y;
    }

    /// <summary>ggml <c>quantize_row_q4_0_ref</c>: d = (value of largest magnitude)/-8 (F16), q = min(15, (int)(x/d + 8.5)); low nibbles hold the first 16.</summary>
    public static byte[] QuantizeQ4_0(ReadOnlySpan<float> x)
    {
        int nb = Blocks(x.Length);
        var y = new byte[nb * 18];
        for (int i = 0; i < nb; i++)
        {
            var block = x.Slice(i * QuantBlock, QuantBlock);
            float amax = 0f, max = 0f;
            foreach (float v in block)
            {
                if (amax < MathF.Abs(v)) { amax = MathF.Abs(v); max = v; }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            var outBlock = y.AsSpan(i * 18, 18);
            BinaryPrimitives.WriteHalfLittleEndian(outBlock, (Half)d);
            for (int j = 0; j < QuantBlock / 2; j++)
            {
                int q0 = Math.Min(15, (int)(block[j] * id + 8.5f));
                int q1 = Math.Min(15, (int)(block[j + QuantBlock / 2] * id + 8.5f));
                outBlock[2 + j] = (byte)(q0 | (q1 << 4));
            }
        }
        return y;
    }

    /// <summary>IEEE half precision, round to nearest even (ggml's GGML_FP32_TO_FP16).</summary>
    public static byte[] ToF16(ReadOnlySpan<float> x)
    {
        var y = new byte[x.Length * 2];
        for (int i = 0; i < x.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(y.AsSpan(2 * i), (Half)x[i]);
        return y;
    }

    /// <summary>bfloat16 as ggml's <c>ggml_compute_fp32_to_bf16</c>: round to nearest even, NaN kept quiet.</summary>
    public static byte[] ToBF16(ReadOnlySpan<float> x)
    {
        var y = new byte[x.Length * 2];
        for (int i = 0; i < x.Length; i++)
        {
            uint u = BitConverter.SingleToUInt32Bits(x[i]);
            ushort h = (u & 0x7fffffff) > 0x7f800000 ? (ushort)((u >> 16) | 64) : (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
            BinaryPrimitives.WriteUInt16LittleEndian(y.AsSpan(2 * i), h);
        }
        return y;
    }

    private static int Blocks(int length)
    {
        if (length % QuantBlock != 0) throw new ArgumentException($"{length} values are not a whole number of {QuantBlock}-value blocks.");
        return length / QuantBlock;
    }
}
