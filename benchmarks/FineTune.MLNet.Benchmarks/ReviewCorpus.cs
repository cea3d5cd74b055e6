using FineTune.MLNet.Data;

namespace FineTune.MLNet.Benchmarks;

/// <summary>The review texts of <c>samples/SentimentClassifier/data/reviews.train.csv</c> (column <c>text</c>).</summary>
internal static class ReviewCorpus
{
    public const string RelativePath = "samples/SentimentClassifier/data/reviews.train.csv";

    /// <summary>Finds the file by walking up from the working directory and from the app's folder.</summary>
    public static string Locate()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, RelativePath);
                if (File.Exists(candidate)) return candidate;
            }
        }
        throw new FileNotFoundException($"Cannot find {RelativePath} above '{Directory.GetCurrentDirectory()}' or '{AppContext.BaseDirectory}': run the benchmark from the repository.");
    }

    /// <summary>The <c>text</c> column of every data row.</summary>
    public static IReadOnlyList<string> ReadTexts(string path)
    {
        var table = DelimitedTextReader.Read(path);
        var column = table.ColumnIndex("text");
        return [.. table.Rows.Select(row => row[column])];
    }
}
