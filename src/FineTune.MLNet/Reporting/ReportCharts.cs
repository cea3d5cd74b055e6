using ScottPlot;

namespace FineTune.MLNet.Reporting;

/// <summary>A named line of a chart: x and y of the same length.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>A named bar group of a bar chart: one value per category.</summary>
public sealed record BarGroup(string Name, IReadOnlyList<double> Values);

/// <summary>The report's plots, drawn with ScottPlot 5 (through SkiaSharp) to PNG bytes.</summary>
public static class ReportCharts
{
    /// <summary>Width of every chart in pixels.</summary>
    public const int Width = 720;

    /// <summary>Height of every chart in pixels.</summary>
    public const int Height = 360;

    private static readonly Color[] Palette = [Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.Crimson, Colors.SlateGray, Colors.Purple];

    /// <summary>Lines (with markers when a series is short) sharing one x axis.</summary>
    /// <param name="yFormat">A .NET format for the y tick labels (e.g. "G3" for small learning rates), or null for ScottPlot's own.</param>
    public static byte[] Lines(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, string? yFormat = null)
    {
        var plot = NewPlot(title, xLabel, yLabel);
        if (yFormat is not null)
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => v.ToString(yFormat, System.Globalization.CultureInfo.InvariantCulture) };
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var line = plot.Add.ScatterLine(s.X.ToArray(), s.Y.ToArray(), Palette[i % Palette.Length]);
            if (series.Count > 1) line.LegendText = s.Name;
            line.LineWidth = 2;
            line.MarkerSize = s.X.Count <= 30 ? 7 : 0;
        }
        if (series.Count > 1) plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Grouped bars: one cluster per category, one bar per group, each labelled with its value.</summary>
    public static byte[] Bars(string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<BarGroup> groups, string valueFormat = "F3")
    {
        var plot = NewPlot(title, "", yLabel);
        var width = 0.8 / Math.Max(1, groups.Count);
        for (var g = 0; g < groups.Count; g++)
        {
            var bars = new List<Bar>();
            for (var c = 0; c < categories.Count; c++)
            {
                var value = groups[g].Values[c];
                bars.Add(new Bar
                {
                    Position = c + (g - (groups.Count - 1) / 2.0) * width, Value = value, Size = width * 0.95,
                    FillColor = Palette[g % Palette.Length], Label = value.ToString(valueFormat, System.Globalization.CultureInfo.InvariantCulture),
                });
            }
            var plottable = plot.Add.Bars(bars);
            if (groups.Count > 1) plottable.LegendText = groups[g].Name;
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, categories.Count).Select(i => (double)i).ToArray(), categories.ToArray());
        plot.Axes.Margins(bottom: 0, top: 0.15);
        if (groups.Count > 1) plot.ShowLegend(Alignment.UpperLeft);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>
    /// A confusion matrix as a grid of cells: row <c>i</c> (true class) from the top, column <c>j</c> (predicted class),
    /// each cell shaded by its share of the row and labelled with its count.
    /// </summary>
    public static byte[] Confusion(string title, IReadOnlyList<string> labels, IReadOnlyList<IReadOnlyList<double>> counts)
    {
        var plot = NewPlot(title, "predicted class", "true class");
        var n = labels.Count;
        for (var i = 0; i < n; i++)
        {
            var rowSum = Math.Max(1, counts[i].Sum());
            for (var j = 0; j < n; j++)
            {
                var share = counts[i][j] / rowSum;
                var y = n - 1 - i;
                var cell = plot.Add.Rectangle(j - 0.5, j + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = Colors.White.MixedWith(Colors.SteelBlue, share);
                cell.LineColor = Colors.Gray;
                var text = plot.Add.Text(counts[i][j].ToString("F0", System.Globalization.CultureInfo.InvariantCulture), j, y);
                text.LabelFontSize = 18;
                text.LabelBold = true;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = share > 0.5 ? Colors.White : Colors.Black;
            }
        }
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, labels.ToArray());
        plot.Axes.Left.SetTicks(positions, labels.Reverse().ToArray());
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Grid.IsVisible = false;
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        plot.Title(title);
        if (xLabel.Length > 0) plot.XLabel(xLabel);
        if (yLabel.Length > 0) plot.YLabel(yLabel);
        return plot;
    }
}
