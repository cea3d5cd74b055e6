using FineTune.MLNet.Data;
using Xunit;

namespace FineTune.MLNet.Tests.Data;

/// <summary>The up-front checks of classification tables: each failure names the file, the column and the first row.</summary>
public sealed class ClassificationTablesTests
{
    private static DelimitedTable Csv(string text, string source) => DelimitedTextReader.Parse(text, ',', source);

    private static readonly DelimitedTable Train = Csv("text,label\na,x\nb,y\nc,x\n", "train.csv");

    [Fact]
    public void ConsistentTablesPassAndGiveTheTrainingLabels()
    {
        var labels = ClassificationTables.Check(Train, [Csv("text,label\nd,y\n", "test.csv")], "text", "label");
        Assert.Equal(["x", "y"], labels);
    }

    [Fact]
    public void HeaderOnlyTableIsNamed()
    {
        var e = Assert.Throws<InvalidDataException>(() => ClassificationTables.Check(Train, [Csv("text,label\r\n", "test.csv")], "text", "label"));
        Assert.StartsWith("test.csv: ", e.Message);
        Assert.Contains("no data rows", e.Message);
    }

    [Fact]
    public void UnseenLabelsAreCountedAndTheFirstRowNamed()
    {
        var rows = string.Concat(Enumerable.Range(0, 12).Select(i => $"t{i},new{i}\n"));
        var e = Assert.Throws<InvalidDataException>(() => ClassificationTables.Check(Train, [Csv("text,label\nok,x\n" + rows, "valid.csv")], "text", "label"));
        Assert.StartsWith("valid.csv: column 'label' has 12 label(s) never seen in training (train.csv), in 12 of 13 data row(s)", e.Message);
        Assert.Contains("'new0' (1 row)", e.Message);
        Assert.Contains("and 2 more", e.Message);           // ten listed
        Assert.Contains("the first is data row 2", e.Message);
        Assert.Contains("Labels in training: x, y", e.Message);
    }

    [Fact]
    public void EmptyLabelMissingPairColumnAndSingleClassAreNamed()
    {
        var e = Assert.Throws<InvalidDataException>(() => ClassificationTables.Check(Csv("text,label\na,x\nb,\n", "t.csv"), [], "text", "label"));
        Assert.Contains("column 'label' has an empty or whitespace-only label in 1 of 2 data row(s); the first is data row 2", e.Message);
        var k = Assert.Throws<KeyNotFoundException>(() => ClassificationTables.Check(Train, [], "text", "label", pairColumn: "second"));
        Assert.Contains("'second'", k.Message);
        e = Assert.Throws<InvalidDataException>(() => ClassificationTables.Check(Csv("text,label\na,x\nb,x\n", "t.csv"), [], "text", "label"));
        Assert.Contains("single label ('x') in all 2 data row(s)", e.Message);
    }

    [Fact]
    public void Utf8BomIsNotPartOfTheFirstColumnName()
    {
        using var dir = new FineTune.MLNet.Tests.Checkpoints.TempDir("bom");
        var path = dir.File("bom.csv");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes("text,label\na,x\n")]);
        var table = DelimitedTextReader.Read(path);
        Assert.Equal(["text", "label"], table.Columns);
        Assert.Equal(["a"], table.GetColumn("text"));
    }

    [Fact]
    public void OneUnsplitColumnHintsAtTheDelimiter()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => Csv("text;label\na;x\n", "semi.csv").ColumnIndex("text"));
        Assert.Contains("semicolon-separated", e.Message);
        var plain = Assert.Throws<KeyNotFoundException>(() => Train.ColumnIndex("review"));
        Assert.DoesNotContain("separated", plain.Message);   // two columns were found: no delimiter hint
    }
}
