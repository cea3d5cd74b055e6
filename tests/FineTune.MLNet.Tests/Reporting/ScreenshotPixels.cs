using SkiaSharp;

namespace FineTune.MLNet.Tests.Reporting;

/// <summary>How much a screenshot shows: the share of pixels that are not near-white, the share in colour (the charts' blue and orange; text is grey), the variance of the luminance.</summary>
internal sealed record ScreenshotPixels(int Pixels, double NonWhiteShare, double ColouredShare, double LuminanceVariance)
{
    public static ScreenshotPixels Of(SKBitmap bitmap)
    {
        long nonWhite = 0, coloured = 0;
        double sum = 0, sumSquares = 0;
        var n = bitmap.Width * bitmap.Height;
        for (var y = 0; y < bitmap.Height; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                var luminance = 0.2126 * c.Red + 0.7152 * c.Green + 0.0722 * c.Blue;
                sum += luminance;
                sumSquares += luminance * luminance;
                if (c.Red < 235 || c.Green < 235 || c.Blue < 235) nonWhite++;
                if (Math.Max(c.Red, Math.Max(c.Green, c.Blue)) - Math.Min(c.Red, Math.Min(c.Green, c.Blue)) > 80) coloured++;
            }
        }
        var mean = sum / n;
        return new ScreenshotPixels(n, (double)nonWhite / n, (double)coloured / n, sumSquares / n - mean * mean);
    }
}
