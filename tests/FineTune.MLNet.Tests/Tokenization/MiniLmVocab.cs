using FineTune.MLNet.Import.MiniLm;
using FineTune.MLNet.Tokenization;

namespace FineTune.MLNet.Tests.Tokenization;

/// <summary>
/// The bundled all-MiniLM-L6-v2 vocabulary (= bert-base-uncased) for tests: the tokenizer under test, and an
/// independent line-index lookup (line i of vocab.txt is token id i) to derive expected ids from the file itself.
/// </summary>
internal static class MiniLmVocab
{
    private static readonly Lazy<WordPieceTokenizer> LazyTokenizer = new(() =>
    {
        using var stream = MiniLmResources.OpenVocab();
        return WordPieceTokenizer.FromVocabStream(stream);
    });

    private static readonly Lazy<string[]> LazyLines = new(() =>
    {
        using var reader = new StreamReader(MiniLmResources.OpenVocab());
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return [.. lines];
    });

    public static WordPieceTokenizer Tokenizer => LazyTokenizer.Value;

    public static IReadOnlyList<string> Lines => LazyLines.Value;

    /// <summary>Id of <paramref name="token"/> by its line number in vocab.txt; fails the test if absent.</summary>
    public static int Id(string token)
    {
        int id = Array.IndexOf(LazyLines.Value, token);
        if (id < 0)
        {
            throw new Xunit.Sdk.XunitException($"'{token}' is not a line of the bundled vocab.txt.");
        }

        return id;
    }

    public static int[] Ids(params string[] tokens) => tokens.Select(Id).ToArray();
}
