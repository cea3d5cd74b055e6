using System.Buffers.Binary;

namespace FineTune.MLNet.Tests.Fuzz;

/// <summary>
/// Seeded byte-level mutations of a valid file: bit flips, random bytes, inserted and deleted runs, truncation,
/// duplicated or spliced chunks, and "interesting" integers (0, -1, 2^31, 2^40, 2^63, ...) written over 4 or 8 bytes,
/// which is what breaks length prefixes and counts.
/// </summary>
internal static class ByteMutator
{
    private static readonly ulong[] InterestingIntegers =
    [
        0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1UL << 32, 1UL << 40,
        0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, ulong.MaxValue,
    ];

    private const string StructureBytes = "0123456789-.e\"{}[],:\\ \r\n\t";

    /// <summary>1 to 4 mutations of <paramref name="seed"/> (never changed); <paramref name="other"/> is spliced in sometimes.</summary>
    public static byte[] Mutate(byte[] seed, byte[] other, Random random)
    {
        var bytes = new List<byte>(seed);
        for (int k = random.Next(1, 5); k > 0; k--) MutateOnce(bytes, other, random);
        return [.. bytes];
    }

    private static void MutateOnce(List<byte> bytes, byte[] other, Random random)
    {
        int n = bytes.Count;
        int At() => random.Next(Math.Max(1, n));
        switch (random.Next(9))
        {
            case 0 when n > 0: // bit flip
                bytes[At()] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when n > 0: // random byte
                bytes[At()] = (byte)random.Next(256);
                break;
            case 2: // insert a short run of random bytes
                bytes.InsertRange(Math.Min(At(), n), Enumerable.Range(0, random.Next(1, 9)).Select(_ => (byte)random.Next(256)));
                break;
            case 3 when n > 0: // delete a run
                {
                    int at = At();
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 17), n - at));
                    break;
                }
            case 4: // truncate
                Truncate(bytes, random);
                break;
            case 5 when n > 0: // duplicate a chunk elsewhere
                {
                    int from = At(), len = Math.Min(random.Next(1, 65), n - from);
                    bytes.InsertRange(At(), bytes.GetRange(from, len));
                    break;
                }
            case 6 when other.Length > 0: // splice: our head, another file's tail
                {
                    int cut = Math.Min(At(), bytes.Count);
                    bytes.RemoveRange(cut, bytes.Count - cut);
                    bytes.AddRange(other.Skip(random.Next(other.Length)));
                    break;
                }
            case 7 when n >= 8: // an interesting little-endian integer over 4 or 8 bytes
                {
                    ulong value = InterestingIntegers[random.Next(InterestingIntegers.Length)];
                    int width = random.Next(2) == 0 ? 4 : 8, at = random.Next(n - width + 1);
                    Span<byte> buffer = stackalloc byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(buffer, value);
                    for (int i = 0; i < width; i++) bytes[at + i] = buffer[i];
                    break;
                }
            default: // ASCII digit / structure byte, which text formats care about
                if (n > 0) bytes[At()] = (byte)StructureBytes[random.Next(StructureBytes.Length)];
                break;
        }
    }

    private static void Truncate(List<byte> bytes, Random random)
    {
        int keep = random.Next(bytes.Count + 1);
        bytes.RemoveRange(keep, bytes.Count - keep);
    }
}
