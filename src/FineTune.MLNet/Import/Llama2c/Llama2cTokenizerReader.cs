using System.Text;
using FineTune.MLNet.Formats.Llama2c;

namespace FineTune.MLNet.Import.Llama2c;

/// <summary>
/// Turns a llama2.c <c>tok*.bin</c> into a <see cref="SentencePieceVocabulary"/>: spaces back to "▁", BOS/EOS
/// (<c>"\n&lt;s&gt;\n"</c>, <c>"\n&lt;/s&gt;\n"</c>) back to <c>&lt;s&gt;</c>/<c>&lt;/s&gt;</c>, <c>&lt;0xNN&gt;</c> pieces as bytes. Ids as
/// <c>run.c</c> hardcodes them: UNK 0, BOS 1, EOS 2, byte b at b + 3.
/// </summary>
public static class Llama2cTokenizerReader
{
    public const int UnkId = 0;
    public const int BosId = 1;
    public const int EosId = 2;
    public const int FirstByteId = 3;

    /// <summary>Reads <paramref name="path"/>, whose token count must be <paramref name="vocabSize"/>.</summary>
    public static SentencePieceVocabulary Read(string path, int? vocabSize = null)
    {
        var file = Llama2cTokenizerFile.Read(path, vocabSize);
        int n = file.Pieces.Count;
        if (n < FirstByteId + 256)
            throw new Llama2cFormatException(path, "vocabulary", $"{n} tokens; expected <unk>, <s>, </s> and the 256 byte pieces (at least {FirstByteId + 256}).");
        var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
        var pieces = new string[n];
        var kinds = new SentencePieceKind[n];
        for (int id = 0; id < n; id++)
        {
            string text;
            try { text = utf8.GetString(file.Pieces[id]); }
            catch (DecoderFallbackException) { throw new Llama2cFormatException(path, $"token {id}", "its bytes are not UTF-8."); }
            (pieces[id], kinds[id]) = id switch
            {
                UnkId => ("<unk>", SentencePieceKind.Unknown),
                BosId => ("<s>", SentencePieceKind.Control),
                EosId => ("</s>", SentencePieceKind.Control),
                _ when id < FirstByteId + 256 => (text, SentencePieceKind.Byte),
                _ => (text.Replace(" ", SentencePieceVocabulary.Space, StringComparison.Ordinal), SentencePieceKind.Normal),
            };
            if (kinds[id] == SentencePieceKind.Byte && text != $"<0x{id - FirstByteId:X2}>")
                throw new Llama2cFormatException(path, $"token {id}", $"'{text}'; run.c's byte fallback expects '<0x{id - FirstByteId:X2}>' there (byte + {FirstByteId}).");
        }
        var vocabulary = new SentencePieceVocabulary(pieces, [.. file.Scores], kinds, UnkId, BosId, EosId);
        vocabulary.Validate(path);
        return vocabulary;
    }
}
