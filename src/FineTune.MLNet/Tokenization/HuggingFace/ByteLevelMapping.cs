using System.Text;

namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>
/// GPT-2's reversible byte-to-character table (<c>bytes_to_unicode</c>): printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100.. in byte order, so every UTF-8 byte is one visible character
/// (space becomes 'Ġ', newline 'Ċ').
/// </summary>
internal static class ByteLevelMapping
{
    /// <summary>Character for each byte value.</summary>
    public static readonly char[] ByteToChar = BuildTable();

    /// <summary>Byte value for each mapped character.</summary>
    public static readonly IReadOnlyDictionary<char, byte> CharToByte =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    /// <summary>Maps the UTF-8 bytes of <paramref name="text"/> to their byte-level characters.</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    private static char[] BuildTable()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }
}
